// The engine alone in front of a counting backend: every hostile case of the corpus is refused with
// its status, the connection is closed, nothing reaches the backend, and a client on another
// connection keeps getting 200 meanwhile.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CORPUS } from './corpus.ts';
import {
  SOCKET_MODES,
  useSockets,
  countingBackend,
  engineProxy,
  raw,
  statuses,
  steadyClient,
} from './harness.ts';

for (const mode of SOCKET_MODES) {
  const test = suite(`${mode} sockets`);
  test.before(() => useSockets(mode));

  test('every hostile request is refused, closed, and never forwarded', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port);
    const steady = steadyClient(px.port);
    try {
      for (const c of CORPUS) {
        const r = await raw(px.port, c.bytes, 3000);
        assert.equal(statuses(r.data), [c.status], `${c.name}: ${JSON.stringify(r.data.slice(0, 200))}`);
        assert.ok(r.closed, `${c.name}: connection closed`);
        assert.match(r.data, /\r\nconnection: close\r\n/i, c.name);
        if (c.reason !== undefined) assert.ok(r.data.includes(`x-bulkhead-reason: ${c.reason}\r\n`), c.name);
      }
      assert.is(be.count, 0, 'no hostile request reached the backend');
      assert.is(px.upgrades, 0);
    } finally {
      const s = await steady.stop();
      assert.ok(s.ok >= 3, `steady client got ${s.ok} 200s`);
      assert.is(s.failed, 0);
      await px.close();
      await be.close();
    }
  });

  test('a valid request followed by garbage in the same read: the first is served with Connection: close', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port);
    try {
      const r = await raw(
        px.port,
        `GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n b\r\n\r\n`,
      );
      assert.equal(statuses(r.data), [200]);
      assert.match(r.data, /connection: close/);
      assert.ok(r.closed);
      assert.is(be.count, 1);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test.run();
}
