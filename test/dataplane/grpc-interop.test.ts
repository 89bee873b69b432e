// The grpc-go interop client through the data plane to the grpc-go interop server, routed by a
// RouteSplit with matches[].grpc compiled by the real compiler: the standard test cases (unary,
// large messages, streaming in both directions, metadata, status codes and messages, deadlines,
// cancellation) and `unimplemented_service`, a call no rule matches, answered by the gateway itself
// (grpc-routing.test.ts checks that answer on the wire: grpc-status 12, trailers-only). The
// binaries come from scripts/setup-grpc-interop.sh.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import net from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bagFromDocuments, compile } from '../../src/compiler/index.ts';
import { delay, startProxy } from './fixtures.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binDir = join(process.env.BULKHEAD_CACHE || join(homedir(), '.cache', 'bulkhead'), 'bin');
const CLIENT = join(binDir, 'grpc-interop-client');
const SERVER = join(binDir, 'grpc-interop-server');

async function executable(p: string): Promise<boolean> {
  return access(p, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Finds (and outside CI, builds) the interop binaries; CI must have them: never a skip. */
async function ensureBinaries(): Promise<void> {
  if ((await executable(CLIENT)) && (await executable(SERVER))) return;
  if (process.env.CI === 'true')
    throw new Error(
      `grpc-go interop binaries missing in ${binDir}: run "bash scripts/setup-grpc-interop.sh"`,
    );
  await new Promise<void>((ok, fail) =>
    execFile('bash', [join(repoRoot, 'scripts', 'setup-grpc-interop.sh')], { timeout: 600_000 }, (err) =>
      err ? fail(err) : ok(),
    ),
  );
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port: number, limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port} after ${limitMs} ms`);
    await delay(50);
  }
}

let server: ChildProcess | null = null;
let dp: Awaited<ReturnType<typeof startProxy>> | null = null;

// set-up is a test, not a hook: uvu does not count a failing hook as a failure
test('setup: interop server behind the data plane, routed by gRPC service', async () => {
  await ensureBinaries();
  const port = await freePort();
  server = spawn(SERVER, [`--port=${port}`, '--use_tls=false'], { stdio: 'ignore' });
  await waitForPort(port, 10_000);
  const docs = [
    {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'IngressPool',
      metadata: { name: 'edge', namespace: 'interop', generation: 1 },
      spec: { productLine: 'interop', overload: { maxEventLoopDelay: '10s' } },
    },
    {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'RouteSplit',
      metadata: { name: 'interop', namespace: 'interop', generation: 1 },
      spec: {
        poolRef: { name: 'edge' },
        rules: [
          {
            name: 'test-service',
            matches: [{ grpc: { service: 'grpc.testing.TestService' } }],
            backends: [{ name: 'interop', port: 10000 }],
            timeouts: { read: '10s' },
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'interop', namespace: 'interop' },
      spec: { ports: [{ name: 'grpc', port: 10000, appProtocol: 'kubernetes.io/h2c' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'interop-1',
        namespace: 'interop',
        labels: { 'kubernetes.io/service-name': 'interop' },
      },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port, protocol: 'TCP' }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    },
  ];
  const snapshot = compile(bagFromDocuments(docs)).snapshots['interop/edge'];
  assert.ok(snapshot, 'the pool compiled');
  dp = await startProxy(snapshot!);
});

test.after(async () => {
  await dp?.close();
  server?.kill();
});

const CASES = [
  'empty_unary',
  'large_unary',
  'client_streaming',
  'server_streaming',
  'ping_pong',
  'empty_stream',
  'custom_metadata',
  'status_code_and_message',
  'special_status_message',
  'unimplemented_method',
  'unimplemented_service',
  'timeout_on_sleeping_server',
  'cancel_after_begin',
  'cancel_after_first_response',
];

for (const tc of CASES) {
  test(`interop: ${tc}`, async () => {
    assert.ok(dp, 'set up');
    const out = await new Promise<{ code: number | null; text: string }>((resolveRun) => {
      execFile(
        CLIENT,
        ['--server_host=127.0.0.1', `--server_port=${dp!.port}`, '--use_tls=false', `--test_case=${tc}`],
        { timeout: 30_000 },
        (err, stdout, stderr) =>
          resolveRun({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: stdout + stderr }),
      );
    });
    assert.is(out.code, 0, out.text.slice(-2000));
  });
}

test.run();
