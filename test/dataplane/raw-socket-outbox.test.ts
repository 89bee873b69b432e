// RawSocket's outbox: writes made during one event-loop turn are held to that turn's check phase
// and then go out together, in order per socket; end() and toNetSocket() send what is held first,
// destroy() drops it, and a held write past the high-water mark answers false and 'drain' follows.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { once } from 'node:events';
import {
  acceptRaw,
  rawSocketsAvailable,
  setWriteBatching,
  type RawSocket,
} from '../../src/dataplane/raw-socket.ts';

interface Pair {
  raw: RawSocket;
  client: net.Socket;
  received(): Buffer;
  close(): Promise<void>;
}

async function pair(): Promise<Pair> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let accepted: (s: RawSocket) => void = () => undefined;
  const got = new Promise<RawSocket>((r) => (accepted = r));
  assert.ok(acceptRaw(server, (s) => accepted(s)) !== null, 'raw accepts are available');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  client.on('error', () => undefined);
  const raw = await got;
  return {
    raw,
    client,
    received: () => Buffer.concat(chunks),
    close: async () => {
      raw.destroy();
      client.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

test.before(() => {
  assert.ok(rawSocketsAvailable(), 'this Node has the handle API');
  setWriteBatching(true);
});

test('writes in one turn are held until its end, then sent in order', async () => {
  const p = await pair();
  try {
    assert.ok(p.raw.write('one,'));
    assert.ok(p.raw.write(Buffer.from('two,')));
    assert.ok(p.raw.write('three'));
    assert.is(p.raw.writableLength, 13, 'held, not yet with the kernel');
    await turn();
    assert.is(p.raw.writableLength, 0, 'sent at the end of the turn');
    await until(() => p.received().length === 13);
    assert.is(p.received().toString(), 'one,two,three');
  } finally {
    await p.close();
  }
});

test('end() sends what is held, then FIN', async () => {
  const p = await pair();
  try {
    p.raw.write('last words');
    p.raw.end();
    await once(p.client, 'end');
    assert.is(p.received().toString(), 'last words');
  } finally {
    await p.close();
  }
});

test('destroy() drops what is held', async () => {
  const p = await pair();
  try {
    p.raw.write('never sent');
    p.raw.destroy();
    await once(p.client, 'close');
    assert.is(p.received().length, 0);
  } finally {
    await p.close();
  }
});

test('a held write past the high-water mark answers false; drain follows the flush', async () => {
  const p = await pair();
  try {
    assert.is(p.raw.write(Buffer.alloc(20 * 1024, 0x61)), false);
    assert.ok(p.raw.writableNeedDrain);
    await once(p.raw, 'drain');
    await until(() => p.received().length === 20 * 1024);
    assert.is(p.received().length, 20 * 1024);
  } finally {
    await p.close();
  }
});

test('toNetSocket() sends what is held before the net.Socket writes', async () => {
  const p = await pair();
  try {
    p.raw.write('held-');
    const s = p.raw.toNetSocket();
    s.write('after');
    await until(() => p.received().length === 10);
    assert.is(p.received().toString(), 'held-after');
    s.destroy();
  } finally {
    await p.close();
  }
});

test('with batching off, a write goes to the kernel at once', async () => {
  setWriteBatching(false);
  const p = await pair();
  try {
    p.raw.write('now');
    assert.is(p.raw.writableLength, 0);
    await until(() => p.received().length === 3);
    assert.is(p.received().toString(), 'now');
  } finally {
    setWriteBatching(true);
    await p.close();
  }
});

test.run();
