// grpc-go's interop client → Bulkhead (h2c) → grpc-go's interop server, both plaintext and built by
// scripts/setup-conformance.sh. The route matches the whole grpc.testing package with a regular
// expression (PathPrefix matches whole segments, so `/grpc.testing.` would not match).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { cluster, deadPort, delay, route, snapshot, startProxy } from '../dataplane/fixtures.ts';
import { conformanceTool, run } from './tools.ts';

export const STANDARD_CASES = [
  'empty_unary',
  'large_unary',
  'client_streaming',
  'server_streaming',
  'ping_pong',
  'empty_stream',
  'timeout_on_sleeping_server',
  'cancel_after_begin',
  'cancel_after_first_response',
  'status_code_and_message',
  'special_status_message',
  'custom_metadata',
  'unimplemented_method',
  'unimplemented_service',
];

function connectable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

let server: ChildProcess | null = null;
let dp: Awaited<ReturnType<typeof startProxy>> | null = null;
let client = '';

test.before(async () => {
  client = await conformanceTool('grpc-interop-client');
  const serverBin = await conformanceTool('grpc-interop-server');
  // the interop server takes a fixed port: one that was free a moment ago
  const port = await deadPort();
  server = spawn(serverBin, ['-port', String(port), '-use_tls=false'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await connectable(port)); i++) await delay(50);
  dp = await startProxy(
    snapshot({
      routes: [
        route('team/interop/main', 'team/interop:80', {
          match: { path: { type: 'RegularExpression', value: '/grpc\\.testing\\..*' } },
          timeouts: { readMs: 10_000 },
        }),
      ],
      clusters: [cluster('team/interop:80', [port], { protocol: 'H2C' })],
      over: { accessLog: { enabled: false, sampleRate: 1 } },
    }),
  );
});

test.after(async () => {
  await dp?.close();
  server?.kill('SIGTERM');
});

async function runCases(cases: string[]): Promise<string[]> {
  const failed: string[] = [];
  for (const c of cases) {
    const r = await run(
      client,
      ['-server_host', '127.0.0.1', '-server_port', String(dp!.port), '-use_tls=false', '-test_case', c],
      60_000,
    );
    if (r.code !== 0)
      failed.push(`${c} (exit ${r.code}): ${(r.stderr + r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return failed;
}

test('grpc-go interop through the proxy: the 14 standard cases pass', async () => {
  assert.equal(await runCases(STANDARD_CASES), []);
  // and they went through the route (grpc-go has no compression cases; see docs/CONFORMANCE.md)
  const text = await (await fetch(`http://127.0.0.1:${dp!.adminPort}/metrics`)).text();
  let routed = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('bulkhead_requests_total{') && line.includes('route="team/interop/main"'))
      routed += Number(line.slice(line.lastIndexOf(' ') + 1));
  assert.ok(routed >= STANDARD_CASES.length, `only ${routed} requests went through the route`);
});

test.run();
