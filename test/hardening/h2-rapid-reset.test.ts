// HTTP/2 rapid reset (CVE-2023-44487) against a data plane in its own process. Before the fix the
// burst crashed the process in about 1.5 s with an uncaught TypeError in the listener's stream
// handler (`stream.session` undefined once the stream was reset). Now: the process survives, each
// flooding connection gets GOAWAY ENHANCE_YOUR_CALM, a concurrent client keeps getting 200s, and
// the data plane's RSS stays within 50 MB of its start.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import { cluster, closeServer, httpBackend, route, snapshot } from '../dataplane/fixtures.ts';
import { attack, spawnDataplane } from './dataplane-child.ts';
import { PENALTY_MS } from '../../src/dataplane/h2-penalty.ts';
import { bystander, percentile, type ResetFloodResult } from './clients.ts';

const FLOOD_MS = 4000;

test('rapid reset: the process survives, GOAWAY ENHANCE_YOUR_CALM, a bystander keeps its 200s, RSS bounded', async () => {
  const be = await httpBackend((req, res) => {
    req.resume();
    res.end('ok');
  });
  const dp = await spawnDataplane(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      // one access-log line per reset stream would measure the log pipe, not the guard
      over: { accessLog: { enabled: false, sampleRate: 1 } },
    }),
  );
  try {
    // warm up (JIT, pools) before taking the baseline
    await bystander(dp.port, (r) => r.ok + r.failed.length >= 200);
    const rss0 = dp.rss();
    let peak = rss0;
    const sampler = setInterval(() => {
      if (!dp.exited()) peak = Math.max(peak, dp.rss());
    }, 100);
    let done = false;
    const [flood, other] = await Promise.all([
      attack<ResetFloodResult>('rapid-reset', dp.port, FLOOD_MS).finally(() => (done = true)),
      bystander(dp.port, () => done || dp.exited()),
    ]);
    clearInterval(sampler);
    assert.not.ok(dp.exited(), `data plane died: ${dp.stderr.join('\n')}`);
    assert.ok(flood.streams > 2000, `flood sent only ${flood.streams} streams`);
    // after a GOAWAY the attacker's address waits PENALTY_MS before its next connection is read
    assert.ok(
      flood.connections <= FLOOD_MS / PENALTY_MS + 2,
      `${flood.connections} flooding connections in ${FLOOD_MS} ms`,
    );
    assert.ok(
      flood.goaways.includes(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM),
      `GOAWAY codes seen: ${flood.goaways.join(',')}`,
    );
    assert.equal(other.failed, [], 'bystander failures');
    assert.ok(other.ok >= 20, `bystander got only ${other.ok} answers`);
    assert.ok(
      peak - rss0 < 50 * 1024 * 1024,
      `RSS grew by ${((peak - rss0) / 1048576).toFixed(1)} MB (start ${(rss0 / 1048576).toFixed(1)} MB)`,
    );
    assert.ok((await dp.metric('bulkhead_connection_errors_total')) >= 1);
    // every flooding connection is gone (none left half-open on the server)
    let open = -1;
    for (let i = 0; i < 50 && open !== 0; i++) {
      open = await dp.metric('bulkhead_active_connections', 'protocol="h2"');
      if (open !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.is(open, 0, 'h2 connections still open after the flood');
    process.stderr.write(
      `  rapid reset: ${flood.streams} streams on ${flood.connections} connections; bystander ${other.ok} ok ` +
        `(p99 ${percentile(other.latenciesMs, 99).toFixed(1)} ms), ` +
        `RSS ${(rss0 / 1048576).toFixed(1)} MB -> peak ${(peak / 1048576).toFixed(1)} MB\n`,
    );
  } finally {
    await dp.stop();
    await closeServer(be);
  }
});

test.run();
