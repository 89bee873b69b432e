// SIGTERM to a real `bulkhead dataplane` process (what the kubelet sends on pod deletion) with
// requests in flight: /readyz fails at once, every in-flight request completes, the process exits 0.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  closeServer,
  cluster,
  deadPort,
  delay,
  httpBackend,
  request,
  route,
  snapshot,
  waitDataplaneReady,
} from './fixtures.ts';

test('SIGTERM drain: readiness fails at once, 0 failed in-flight requests, exit 0', async () => {
  const be = await httpBackend((_req, res) => setTimeout(() => res.end('done'), 400));
  const dir = mkdtempSync(join(tmpdir(), 'bh-sigterm-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(
    file,
    JSON.stringify(
      snapshot({
        routes: [route('team/web/main', 'team/web:80')],
        clusters: [cluster('team/web:80', [be.port])],
        over: { websocket: { drainPeriodMs: 1000 } },
      }),
    ),
  );
  const [port, adminPort] = [await deadPort(), await deadPort()];
  const child = spawn(
    process.execPath,
    [
      'bin/bulkhead.mjs',
      'dataplane',
      '--snapshot',
      file,
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--host',
      '127.0.0.1',
      '--workers',
      '1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = once(child, 'exit');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 30 });
  try {
    await waitDataplaneReady(adminPort, child, 15_000);
    const inflight = Array.from({ length: 30 }, (_, i) => request(port, { path: `/r/${i}`, agent }));
    await delay(100);
    child.kill('SIGTERM');
    await delay(100);
    const ready = await request(adminPort, { path: '/readyz' });
    assert.is(ready.status, 503, 'readiness fails as soon as the drain starts');
    const results = await Promise.all(inflight);
    assert.equal(
      results.map((r) => `${r.status} ${r.body}`),
      Array(30).fill('200 done'),
    );
    const [code] = (await Promise.race([exited, delay(15_000).then(() => ['timeout'])])) as [number | string];
    assert.is(code, 0, 'the process exits by itself once idle');
  } finally {
    agent.destroy();
    if (child.exitCode === null) child.kill('SIGKILL');
    await closeServer(be);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
