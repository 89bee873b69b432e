// The access log's batching writer on a real file: lines are encoded into 64 KB batches and handed
// to sonic-boom as bytes. Every line arrives whole, in order, as valid JSON, whatever it holds
// (non-ASCII, a line longer than a batch), with process log lines kept after the access lines
// written before them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLog, type AccessRecord } from '../../src/dataplane/access-log.ts';
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

test.run();
