// An exception thrown while a stream is being handled resets that stream only: it is counted in
// bulkhead_connection_errors_total{reason="handler_exception"}, logged with the peer and stream id,
// and the same connection, other clients and the process keep working.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import {
  closeServer,
  cluster,
  httpBackend,
  route,
  snapshot,
  startDataplaneWithMetrics,
} from './in-process.ts';

function get(s: http2.ClientHttp2Session): Promise<{ status: number; rst: number }> {
  return new Promise((resolve) => {
    const req = s.request({ ':path': '/' });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('error', () => {});
    req.resume();
    req.on('close', () => resolve({ status, rst: req.rstCode ?? 0 }));
    req.end();
  });
}

test('a throwing stream handler resets one stream; the session and the process go on', async () => {
  const be = await httpBackend((req, res) => res.end('ok'));
  const dp = await startDataplaneWithMetrics(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  const s = http2.connect(`http://127.0.0.1:${dp.port}`);
  s.on('error', () => {});
  try {
    assert.is((await get(s)).status, 200);
    // a bug on the request path: the store throws for one request
    const peek = dp.store.peek.bind(dp.store);
    dp.store.peek = () => {
      dp.store.peek = peek;
      throw new TypeError('simulated bug in the request path');
    };
    const failed = await get(s);
    assert.is(failed.status, 0);
    assert.is(failed.rst, http2.constants.NGHTTP2_INTERNAL_ERROR);
    // the same connection still serves
    assert.is((await get(s)).status, 200);
    const m = await dp.metrics.connectionErrors.get();
    assert.equal(
      m.values.map((v) => [v.labels.reason, v.value]),
      [['handler_exception', 1]],
    );
    const log = dp.logs.records().find((r) => r.msg === 'h2 stream handler failed; stream reset');
    assert.ok(
      log !== undefined && String(log.err).includes('simulated bug') && typeof log.stream === 'number',
    );
  } finally {
    s.close();
    await dp.close();
    await closeServer(be);
  }
});

test.run();
