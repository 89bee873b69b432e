// The data plane's last-resort handlers: an exception that escaped every connection guard and an
// unhandled rejection are logged and counted and the process keeps serving; a process that keeps
// throwing exits (status 70) for a fresh one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import { installProcessGuard, EXIT_TOO_MANY_ERRORS } from '../../src/dataplane/process-guard.ts';
import {
  LogSink,
  closeServer,
  cluster,
  delay,
  httpBackend,
  request,
  route,
  snapshot,
  startProxy,
} from '../dataplane/fixtures.ts';

test('escaped errors are logged and counted; the data plane keeps serving', async () => {
  const be = await httpBackend((req, res) => res.end('ok'));
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  const sink = new LogSink();
  const counted: string[] = [];
  const exits: number[] = [];
  const remove = installProcessGuard({
    count: (r) => counted.push(r),
    log: pino({ base: null }, sink),
    exit: (c) => exits.push(c),
  });
  try {
    setTimeout(() => {
      throw new TypeError('boom in a timer');
    }, 1);
    void Promise.reject(new Error('nobody awaited this'));
    await delay(50);
    assert.equal(counted.sort(), ['uncaught_exception', 'unhandled_rejection']);
    const recs = sink.records();
    assert.ok(
      recs.some((r) => String(r.err).includes('boom in a timer') && r.reason === 'uncaught_exception'),
    );
    assert.ok(recs.some((r) => String(r.err).includes('nobody awaited this')));
    assert.equal(exits, []);
    assert.is((await request(dp.port, { path: '/' })).status, 200);
  } finally {
    remove();
    await dp.close();
    await closeServer(be);
  }
});

test('a process that keeps throwing exits with status 70', async () => {
  const exits: number[] = [];
  const remove = installProcessGuard({
    count: () => {},
    log: pino({ base: null }, new LogSink()),
    maxPerMinute: 3,
    exit: (c) => exits.push(c),
  });
  try {
    for (let i = 0; i < 5; i++)
      setTimeout(() => {
        throw new Error(`again ${i}`);
      }, 1);
    await delay(50);
    assert.equal(exits, [EXIT_TOO_MANY_ERRORS]);
  } finally {
    remove();
  }
});

test.run();
