// The list+watch loop against a scripted fake API server on loopback: events reach the cache and
// the listener; a closed stream resumes from the last resourceVersion; 410 Gone relists (deleting
// what vanished meanwhile); a 500 is reported and retried after a back-off; stop() ends an open
// watch at once.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RESOURCES } from '../../src/operator/api-resources.ts';
import { Reflector } from '../../src/operator/informers.ts';
import { KubeRest, type KubeObject } from '../../src/operator/kube-rest.ts';
import { waitFor } from './cluster-fixtures.ts';

const ns = (name: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, resourceVersion: rv },
});

type Step = (req: IncomingMessage, res: ServerResponse) => void;
const events =
  (list: { type: string; object: unknown }[], keepOpen = false): Step =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (const e of list) res.write(JSON.stringify(e) + '\n');
    if (!keepOpen) res.end();
  };

test('list, watch, resume, 410 relist, 500 back-off, stop', async () => {
  const lists: Step[] = [
    (_req, res) => res.end(JSON.stringify({ metadata: { resourceVersion: '10' }, items: [ns('a', '10')] })),
    (_req, res) =>
      res.end(JSON.stringify({ metadata: { resourceVersion: '20' }, items: [ns('a', '12'), ns('c', '20')] })),
  ];
  const watches: Step[] = [
    events([
      { type: 'ADDED', object: ns('b', '11') },
      { type: 'MODIFIED', object: ns('a', '12') },
    ]),
    events([{ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } }]),
    (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'InternalError', message: 'etcd is sad' }));
    },
    events([{ type: 'DELETED', object: ns('c', '21') }], true),
  ];
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(url.searchParams.get('watch') ? `watch rv=${url.searchParams.get('resourceVersion')}` : 'list');
    const step = url.searchParams.get('watch') ? watches.shift() : lists.shift();
    if (step) step(req, res);
    else res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const rest = new KubeRest(kc);
  const got: string[] = [];
  const errors: string[] = [];
  const r = new Reflector(rest, RESOURCES.Namespace, {
    onEvent: (type, obj) => got.push(`${type} ${obj.metadata.name}@${obj.metadata.resourceVersion}`),
    onError: (err) => errors.push(String(err)),
  });
  try {
    r.start();
    await r.whenSynced();
    await waitFor('the last watch to deliver its event', async () => got.includes('delete c@20'), 10_000);
    assert.equal(got, ['add a@10', 'add b@11', 'update a@12', 'delete b@11', 'add c@20', 'delete c@20']);
    assert.equal(seen, ['list', 'watch rv=10', 'watch rv=12', 'list', 'watch rv=20', 'watch rv=20']);
    assert.is(errors.length, 1, 'only the 500 is an error; 410 is routine');
    assert.match(errors[0]!, /etcd is sad/);
    assert.equal([...r.items.keys()], ['/a']);
    assert.equal(r.items.get('/a')!.kind, 'Namespace', 'list items get their kind');
  } finally {
    await r.stop(); // the last watch is still open: stop must close it
    await rest.close();
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
  }
});

test('a failing list keeps retrying with back-off until stopped, never throwing', async () => {
  let calls = 0;
  const server = createServer((_req, res) => {
    calls++;
    res.writeHead(404, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        kind: 'Status',
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const rest = new KubeRest(kc);
  const errors: unknown[] = [];
  const r = new Reflector(rest, RESOURCES.IngressPool, { onEvent: () => {}, onError: (e) => errors.push(e) });
  try {
    r.start();
    await waitFor('three failed lists', async () => calls >= 3, 10_000);
    assert.not.ok(r.synced);
    assert.ok(errors.length >= 3);
    assert.is((errors[0] as { statusCode?: number }).statusCode, 404);
  } finally {
    await r.stop();
    await rest.close();
    await new Promise((res) => server.close(res));
  }
  const after = calls;
  await new Promise((res) => setTimeout(res, 600));
  assert.is(calls, after, 'no request after stop');
});

test.run();
