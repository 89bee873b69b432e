// The access log's batching writer on a real file: lines are encoded into 64 KB batches and handed
// to sonic-boom as bytes. Every line arrives whole, in order, as valid JSON, whatever it holds
// (non-ASCII, a line longer than a batch), with process log lines kept after the access lines
// written before them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { AccessLog, type AccessRecord } from '../../src/dataplane/access-log.ts';
import { DataplaneMetrics } from '../../src/dataplane/metrics.ts';
import { delay } from './fixtures.ts';

function record(i: number, path: string): AccessRecord {
  return {
    requestId: `req-${i}`,
    protocol: 'http1',
    method: 'GET',
    host: 'shop.example',
    path,
    route: 'team/web/main',
    cluster: 'team/web:80',
    upstream: '198.18.0.2:8080',
    status: 200,
    durationMs: i / 1000,
    upstreamMs: 0.5,
    bytesIn: 0,
    bytesOut: 27,
    retries: 0,
    reason: null,
    grpcStatus: null,
  };
}

async function readWhenDone(log: AccessLog, file: string): Promise<string[]> {
  log.close();
  for (let i = 0; i < 100 && log.buffered() > 0; i++) await delay(20);
  assert.is(log.buffered(), 0, 'everything written');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

test('batched lines reach the file whole, in order, with non-ASCII and oversized lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bh-alog-'));
  const file = join(dir, 'access.log');
  try {
    const log = new AccessLog(undefined, file);
    const paths: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // a path longer than a whole batch, non-ASCII (as a latin1-decoded header may give), quotes
      const p = i === 1500 ? '/' + 'x'.repeat(100_000) : i % 7 === 0 ? `/caf\u00e9/\u2603/${i}` : `/q"${i}\\`;
      paths.push(p);
      log.write(record(i, p));
      if (i === 2000) log.logger.warn({ marker: 2000 }, 'process line');
    }
    const lines = await readWhenDone(log, file);
    assert.is(lines.length, 3001);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = parsed.filter((p) => p.msg === 'access');
    assert.equal(
      access.map((p) => p.path),
      paths,
    );
    assert.equal(
      access.map((p) => p.requestId),
      paths.map((_, i) => `req-${i}`),
    );
    const at = parsed.findIndex((p) => p.msg === 'process line');
    assert.is(at, 2001, 'the process line follows the access lines written before it');
    assert.is(log.droppedBytes, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a quiet log is handed over by the timer, without close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bh-alog-'));
  const file = join(dir, 'access.log');
  const log = new AccessLog(undefined, file);
  try {
    log.write(record(1, '/quiet'));
    let text = '';
    for (let i = 0; i < 50 && !text.includes('/quiet'); i++) {
      await delay(20);
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        // not created yet
      }
    }
    assert.match(text, /"path":"\/quiet"/);
  } finally {
    log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stalled log reader: what waits stays bounded; a reader gone: the log is given up, counted', async () => {
  // a FIFO whose reader (a shell that opened it, then sleeps) never reads: once the pipe buffer is
  // full the write in flight never completes, and everything after it waits in the destination
  const dir = mkdtempSync(join(tmpdir(), 'bh-alog-'));
  const fifo = join(dir, 'stalled');
  execFileSync('mkfifo', [fifo]);
  const reader = spawn('sh', ['-c', 'exec 3<"$0"; exec sleep 30', fifo], { stdio: 'ignore' });
  const log = new AccessLog(undefined, fifo);
  try {
    const long = '/' + 'p'.repeat(1000);
    // about 40 MB of lines, against 32 MiB allowed to wait
    for (let i = 0; i < 30_000; i++) {
      log.write(record(i, long));
      if (i % 1000 === 0) await delay(2);
    }
    log.flush();
    assert.ok(log.droppedBytes > 0, `bytes were dropped (${log.droppedBytes})`);
    assert.ok(log.buffered() <= 33 * 1024 * 1024, `what waits stays bounded (${log.buffered()} bytes)`);
    assert.is(log.destinationErrors, 0);
    // the reader goes away: the blocked write fails (EPIPE), the destination is given up
    reader.kill('SIGKILL');
    await once(reader, 'exit');
    for (let i = 0; i < 200 && log.destinationErrors === 0; i++) await delay(10);
    assert.is(log.destinationErrors, 1, 'the failed write was counted, not thrown');
    const before = log.droppedBytes;
    log.write(record(1, '/after'));
    log.flushSync();
    assert.ok(log.droppedBytes > before, 'lines after the failure count as dropped');
  } finally {
    if (reader.exitCode === null && reader.signalCode === null) reader.kill('SIGKILL');
    log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dropped log bytes show on /metrics as bulkhead_access_log_dropped_bytes_total', async () => {
  const m = new DataplaneMetrics(false);
  m.setPool('shop/edge');
  let dropped = 0;
  m.accessLogDropped = () => dropped;
  const value = async (): Promise<string | undefined> =>
    /bulkhead_access_log_dropped_bytes_total\{[^}]*pool="shop\/edge"[^}]*\} (\d+)/.exec(
      await m.registry.metrics(),
    )?.[1];
  dropped = 1234;
  assert.is(await value(), '1234');
  dropped = 2000;
  assert.is(await value(), '2000', 'a counter: the total so far, not the change');
});

test.run();
