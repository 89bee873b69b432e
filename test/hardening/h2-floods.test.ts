// HTTP/2 floods from one connection against a data plane in its own process, each measured by its
// effect on a bystander on another connection: CONTINUATION, SETTINGS and PING floods end the
// attacking connection; 2,000 streams whose responses are never read stay bounded by the
// per-connection stream limit and do not stall the bystander.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cluster, closeServer, httpBackend, route, snapshot } from '../dataplane/fixtures.ts';
import { attack, spawnDataplane, type DataplaneChild } from './dataplane-child.ts';
import {
  bystander,
  frame,
  hpackLiteral,
  percentile,
  rawFlood,
  requestBlock,
  type BystanderResult,
  type RawFloodResult,
} from './clients.ts';

const BIG = Buffer.alloc(1024 * 1024, 'x');
let be: Awaited<ReturnType<typeof httpBackend>>;
let dp: DataplaneChild;

test.before(async () => {
  be = await httpBackend((req, res) => {
    req.resume();
    res.end(req.url === '/big' ? BIG : 'ok');
  });
  dp = await spawnDataplane(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { accessLog: { enabled: false, sampleRate: 1 } },
    }),
  );
});

test.after(async () => {
  await dp.stop();
  await closeServer(be);
});

/** The flood and a bystander side by side; the bystander goes on until the flood ended and it got 20 answers. */
async function withBystander<T>(flood: Promise<T>): Promise<[T, BystanderResult]> {
  let done = false;
  return Promise.all([
    flood.finally(() => (done = true)),
    bystander(dp.port, (r) => (done && r.ok + r.failed.length >= 20) || dp.exited()),
  ]);
}

function assertBystanderFine(b: BystanderResult): void {
  assert.not.ok(dp.exited(), `data plane died: ${dp.stderr.join('\n')}`);
  assert.equal(b.failed, [], 'bystander failures');
  assert.ok(b.ok >= 20, `bystander got ${b.ok} answers`);
}

const MB = 1024 * 1024;

test('CONTINUATION flood: the connection is closed, the bystander keeps its 200s', async () => {
  const head = frame(1, 0 /* no END_HEADERS */, 1, requestBlock('/x'));
  const cont = frame(9, 0, 1, hpackLiteral('x-pad', 'a'.repeat(100)));
  const [f, b] = await withBystander(rawFlood(dp.port, head, cont, 20 * MB, 5000));
  process.stderr.write(`  CONTINUATION: closed after ${f.sent} bytes, GOAWAY ${f.goaway}\n`);
  assert.ok(f.closed, `connection still open after ${f.sent} bytes of CONTINUATION`);
  assertBystanderFine(b);
});

for (const [name, repeat] of [
  ['SETTINGS', frame(4, 0, 0, Buffer.alloc(0))],
  ['PING', frame(6, 0, 0, Buffer.alloc(8, 1))],
] as const) {
  test(`${name} flood without reading the ACKs: the connection is closed, the bystander keeps its 200s`, async () => {
    const rss0 = dp.rss();
    const [f, b] = await withBystander<RawFloodResult>(
      rawFlood(dp.port, Buffer.alloc(0), repeat, 50 * MB, 5000),
    );
    process.stderr.write(`  ${name}: closed after ${f.sent} bytes, GOAWAY ${f.goaway}\n`);
    assert.ok(f.closed, `connection still open after ${f.sent} bytes of ${name}`);
    assertBystanderFine(b);
    assert.ok(dp.rss() - rss0 < 50 * MB, `RSS grew ${((dp.rss() - rss0) / MB).toFixed(1)} MB`);
  });
}

test('2,000 unread streams on one connection do not stall another client', async () => {
  const rss0 = dp.rss();
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, dp.rss())), 100);
  const [a, b] = await withBystander(
    attack<{ opened: number; answered: number }>('unread-streams', dp.port, 4000),
  );
  clearInterval(sampler);
  assertBystanderFine(b);
  const p99 = percentile(b.latenciesMs, 99);
  process.stderr.write(
    `  unread streams: ${a.answered} of ${a.opened} answered; bystander ${b.ok} ok, p99 ${p99.toFixed(1)} ms, ` +
      `RSS ${(rss0 / MB).toFixed(1)} -> peak ${(peak / MB).toFixed(1)} MB\n`,
  );
  // the concurrency limit: at most 100 of the 2,000 were ever open on the server
  assert.ok(a.answered <= 100, `${a.answered} streams were answered at once`);
  assert.ok(p99 < 250, `bystander p99 ${p99.toFixed(1)} ms`);
  assert.ok(peak - rss0 < 100 * MB, `RSS grew ${((peak - rss0) / MB).toFixed(1)} MB`);
});

test.run();
