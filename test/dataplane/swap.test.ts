// The bar for in-memory config swaps: hold many WebSocket tunnels open and apply many
// snapshots while requests on an untouched route keep flowing. Zero tunnels may drop and zero
// requests may fail. Sizes: BH_SWAP_WS (default 1000) tunnels × BH_SWAP_COUNT (default 1000) swaps.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { cluster, closeServer, httpBackend, request, route, snapshot, startProxy } from './fixtures.ts';
import type { PoolSnapshot } from '../../src/ir/snapshot.ts';

const TUNNELS = Number(process.env.BH_SWAP_WS ?? 1000);
const SWAPS = Number(process.env.BH_SWAP_COUNT ?? 1000);

test(`${TUNNELS} WebSocket tunnels × ${SWAPS} snapshot swaps: 0 dropped, 0 failed`, async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  const wsPort = (wss.address() as { port: number }).port;
  const api = await httpBackend((_req, res) => res.end('api'));
  const other = await httpBackend((_req, res) => res.end('other'));

  // every snapshot differs (a churning route and cluster); the ws and api routes never change
  const build = (i: number): PoolSnapshot =>
    snapshot({
      routes: [
        route('team/chat/ws', 'team/chat:80', { match: { path: { type: 'PathPrefix', value: '/ws' } } }),
        route('team/api/main', 'team/api:80', { match: { path: { type: 'PathPrefix', value: '/api' } } }),
        route(`team/churn/r${i % 7}`, `team/churn-${i % 5}:80`, {
          match: { path: { type: 'PathPrefix', value: `/churn/${i}` } },
          timeouts: { readMs: 1000 + i },
        }),
      ],
      clusters: [
        cluster('team/chat:80', [wsPort]),
        cluster('team/api:80', [api.port]),
        cluster(`team/churn-${i % 5}:80`, [other.port, 20000 + (i % 100)]),
      ],
    });
  const snapshots = Array.from({ length: SWAPS + 1 }, (_, i) => build(i));
  const dp = await startProxy(snapshots[0]!);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const sockets: WebSocket[] = [];
  let dropped = 0;
  try {
    for (let i = 0; i < TUNNELS; i += 50) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(50, TUNNELS - i) },
          () =>
            new Promise<WebSocket>((resolve, reject) => {
              const ws = new WebSocket(`ws://127.0.0.1:${dp.port}/ws`);
              ws.once('open', () => resolve(ws));
              ws.once('error', reject);
            }),
        ),
      );
      for (const ws of batch) {
        ws.on('close', () => dropped++);
        sockets.push(ws);
      }
    }
    let requests = 0;
    let failed = 0;
    let echoes = 0;
    const started = Date.now();
    const batch = (): Promise<(Awaited<ReturnType<typeof request>> | null)[]> =>
      Promise.all(
        Array.from({ length: 8 }, () => request(dp.port, { path: '/api/x', agent }).catch(() => null)),
      );
    // requests are launched, then ten swaps happen while they are in flight, then they are checked
    let pending = batch();
    for (let i = 1; i <= SWAPS; i++) {
      const r = dp.apply(snapshots[i]!);
      if (!r.ok) throw new Error(r.error);
      if (i % 10 === 0) {
        for (const res of await pending) {
          requests++;
          if (res === null || res.status !== 200 || res.body !== 'api') failed++;
        }
        pending = batch();
        const ws = sockets[(i * 7919) % sockets.length]!;
        const echoed = await new Promise<string>((resolve) => {
          ws.once('message', (m) => resolve(m.toString()));
          ws.send(`ping${i}`);
        });
        if (echoed === `ping${i}`) echoes++;
      }
    }
    for (const res of await pending) {
      requests++;
      if (res === null || res.status !== 200 || res.body !== 'api') failed++;
    }
    const elapsed = Date.now() - started;
    // every tunnel still carries bytes after all the swaps
    const finals = await Promise.all(
      sockets.map(
        (ws, k) =>
          new Promise<boolean>((resolve) => {
            ws.once('message', (m) => resolve(m.toString() === `final${k}`));
            ws.send(`final${k}`);
          }),
      ),
    );
    assert.is(dropped, 0, 'no tunnel closed');
    assert.is(failed, 0, `failed requests out of ${requests}`);
    assert.is(echoes, Math.floor(SWAPS / 10));
    assert.is(finals.filter(Boolean).length, TUNNELS);
    assert.is(dp.store.current().version, snapshots[SWAPS]!.version);
    process.stderr.write(
      `  swap test: ${TUNNELS} tunnels, ${SWAPS} swaps, ${requests} requests in ${elapsed} ms\n`,
    );
  } finally {
    for (const ws of sockets) ws.terminate();
    agent.destroy();
    await dp.close();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
    await closeServer(api);
    await closeServer(other);
  }
});

test.run();
