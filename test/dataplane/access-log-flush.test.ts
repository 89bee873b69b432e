// A quiet pool's access line is not stuck in the log buffer: a real `bulkhead dataplane` process
// (one worker and two) serves one request and its access line appears on stdout promptly (the
// flush timer is 100 ms; the bound asserted leaves room for a loaded CI machine). Also: what is
// buffered is written at exit.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, cluster, deadPort, delay, httpBackend, request, route, snapshot } from './fixtures.ts';

const BOUND_MS = 500;

function lineWaiter(
  stream: NodeJS.ReadableStream,
): (pattern: RegExp, timeoutMs: number) => Promise<number | null> {
  let out = '';
  const waiters: { pattern: RegExp; resolve: (t: number) => void }[] = [];
  stream.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of waiters) if (w.pattern.test(out)) w.resolve(performance.now());
  });
  return (pattern, timeoutMs) =>
    pattern.test(out)
      ? Promise.resolve(performance.now())
      : Promise.race([
          new Promise<number>((resolve) => waiters.push({ pattern, resolve })),
          delay(timeoutMs).then(() => null),
        ]);
}

for (const workers of [1, 2]) {
  test(`the access line appears on stdout within ${BOUND_MS} ms of the response (${workers} worker(s))`, async () => {
    const be = await httpBackend((_req, res) => res.end('hello'));
    const dir = mkdtempSync(join(tmpdir(), 'bh-accesslog-'));
    const file = join(dir, 'snapshot.json');
    writeFileSync(
      file,
      JSON.stringify(
        snapshot({
          routes: [route('team/web/main', 'team/web:80')],
          clusters: [cluster('team/web:80', [be.port])],
        }),
      ),
    );
    const [port, adminPort] = [await deadPort(), await deadPort()];
    const child = spawn(
      process.execPath,
      [
        'bin/bulkhead.mjs',
        'dataplane',
        ...['--snapshot', file, '--port', String(port), '--admin-port', String(adminPort)],
        ...['--host', '127.0.0.1', '--workers', String(workers)],
        // with 2 workers also: --log-level warn silences process logs, never access lines
        ...(workers === 2 ? ['--log-level', 'warn'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const waitFor = lineWaiter(child.stdout!);
    const waitForStderr = lineWaiter(child.stderr!);
    const exited = once(child, 'exit');
    try {
      // the CLI prints this once every worker listens and its signal handlers are installed
      const started = await waitForStderr(/serving on port/, 20_000);
      assert.ok(started !== null, 'the data plane started');
      const r = await request(port, { path: '/marked-request' });
      const responded = performance.now();
      assert.is(r.status, 200);
      const seen = await waitFor(/"path":"\/marked-request"[^\n]*"msg":"access"/, 2000);
      assert.ok(seen !== null, 'the access line appeared on stdout');
      const applied = await waitFor(/"msg":"snapshot applied"/, 0);
      assert.is(applied !== null, workers === 1, 'info process logs only at the default level');
      const lagMs = seen! - responded;
      if (process.env.BH_PRINT_LAG) console.log(`access line lag ${lagMs.toFixed(1)} ms`);
      assert.ok(lagMs < BOUND_MS, `access line after ${lagMs.toFixed(0)} ms`);
      child.kill('SIGTERM');
      const [code] = (await Promise.race([exited, delay(15_000).then(() => ['timeout'])])) as [
        number | string,
      ];
      assert.is(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await closeServer(be);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
