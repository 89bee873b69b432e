// Config stream on loopback: grpc-js server (operator side) and client (data-plane side).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { Registry } from 'prom-client';
import { PoolCredentials } from '../../src/xds/credentials.ts';
import { ConfigStreamServer } from '../../src/xds/server.ts';
import { ConfigStreamClient } from '../../src/xds/client.ts';
import type { PoolSnapshot } from '../../src/ir/snapshot.ts';

const creds = new PoolCredentials(Buffer.alloc(32, 7));
const snap = (version: string) =>
  ({ version, pool: { namespace: 'a', name: 'p' } }) as unknown as PoolSnapshot;

function dataPlane(address: string, pool: string, token: string, refuse = new Set<string>()) {
  const applied: string[] = [];
  let serving: string | null = null;
  const client = new ConfigStreamClient({
    address,
    pool,
    token,
    replica: `replica-${pool}`,
    backoff: { baseMs: 20, maxMs: 100 },
    appliedVersion: () => serving,
    apply: (s) => {
      if (refuse.has(s.version)) return { ok: false, error: `refused ${s.version}` };
      if (s.version !== serving) applied.push(s.version);
      serving = s.version;
      return { ok: true };
    },
  });
  return { client, applied, serving: () => serving };
}

async function until(cond: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function metric(reg: Registry, name: string, pool = 'a/p'): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values.find((v) => v.labels.pool === pool)?.value as number) ?? 0;
}

test('a data plane receives its pool snapshot, ACKs, and the pool becomes Programmed', async () => {
  const reg = new Registry();
  const server = new ConfigStreamServer({ credentials: creds, registry: reg });
  const port = await server.listen('127.0.0.1:0');
  server.publish('a/p', snap('sha256:v1'));
  const dp = dataPlane(`127.0.0.1:${port}`, 'a/p', creds.tokenFor('a/p'));
  dp.client.start();
  await until(() => server.programmed('a/p').status === 'True', 'Programmed');
  assert.equal(dp.applied, ['sha256:v1']);
  server.publish('a/p', snap('sha256:v2'));
  await until(() => server.programmed('a/p').status === 'True' && dp.serving() === 'sha256:v2', 'v2 applied');
  server.publish('a/p', snap('sha256:v2')); // unchanged: never re-sent
  await new Promise((r) => setTimeout(r, 50));
  assert.is(await metric(reg, 'bulkhead_config_pushes_total'), 2);
  assert.is(await metric(reg, 'bulkhead_config_acks_total'), 2);
  assert.is(await metric(reg, 'bulkhead_config_dataplanes_connected'), 1);
  const hist = (await reg.getMetricsAsJSON()).find((x) => x.name === 'bulkhead_config_push_ack_seconds');
  assert.ok(
    hist!.values.some(
      (v) =>
        (v as { metricName?: string }).metricName === 'bulkhead_config_push_ack_seconds_count' &&
        v.value === 2,
    ),
  );
  dp.client.stop();
  await until(() => server.replicasOf('a/p').length === 0, 'disconnect');
  assert.is(server.programmed('a/p').reason, 'NoDataPlanes');
  await server.close();
});

test('a refused snapshot surfaces as Programmed=False with the reason; the last good one stays', async () => {
  const server = new ConfigStreamServer({ credentials: creds });
  const port = await server.listen('127.0.0.1:0');
  server.publish('a/p', snap('sha256:good'));
  const dp = dataPlane(`127.0.0.1:${port}`, 'a/p', creds.tokenFor('a/p'), new Set(['sha256:bad']));
  dp.client.start();
  await until(() => server.programmed('a/p').status === 'True', 'good applied');
  server.publish('a/p', snap('sha256:bad'));
  await until(() => server.programmed('a/p').reason === 'Rejected', 'NACK');
  const v = server.programmed('a/p');
  assert.is(v.status, 'False');
  assert.match(v.message, /refused sha256:bad: refused sha256:bad/);
  assert.is(dp.serving(), 'sha256:good');
  server.publish('a/p', snap('sha256:fixed'));
  await until(() => server.programmed('a/p').status === 'True', 'recovered');
  dp.client.stop();
  await server.close();
});

test('a wrong credential is refused, and one pool credential cannot open another pool', async () => {
  const server = new ConfigStreamServer({ credentials: creds });
  const port = await server.listen('127.0.0.1:0');
  server.publish('a/p', snap('sha256:secret-a'));
  server.publish('b/q', snap('sha256:secret-b'));
  const wrong = dataPlane(`127.0.0.1:${port}`, 'a/p', 'not-a-token');
  const stolen = dataPlane(`127.0.0.1:${port}`, 'a/p', creds.tokenFor('b/q'));
  const other = new PoolCredentials(Buffer.alloc(32, 9));
  const foreign = dataPlane(`127.0.0.1:${port}`, 'a/p', other.tokenFor('a/p'));
  const errors: string[] = [];
  for (const dp of [wrong, stolen, foreign]) {
    dp.client.on('retrying', (_d: number, e: string) => errors.push(e));
    dp.client.start();
  }
  await until(() => errors.length >= 3, 'three refusals');
  for (const dp of [wrong, stolen, foreign]) {
    assert.equal(dp.applied, []);
    assert.is(dp.client.connected, false);
    dp.client.stop();
  }
  assert.ok(
    errors.every((e) => e.startsWith('UNAUTHENTICATED')),
    errors.join('\n'),
  );
  assert.is(server.replicasOf('a/p').length, 0);
  await server.close();
});

test('a Hello for another pool than the credential is refused (PERMISSION_DENIED)', async () => {
  const grpc = await import('@grpc/grpc-js');
  const { configStreamDefinition } = await import('../../src/xds/proto.ts');
  const server = new ConfigStreamServer({ credentials: creds });
  const port = await server.listen('127.0.0.1:0');
  server.publish('b/q', snap('sha256:secret-b'));
  const Ctor = configStreamDefinition().client;
  const raw = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${creds.tokenFor('a/p')}`);
  md.set('x-bulkhead-pool', 'a/p');
  const call = raw.stream(md);
  const received: unknown[] = [];
  call.on('data', (m: unknown) => received.push(m));
  const failed = once(call, 'error');
  call.write({ hello: { pool: 'b/q', replica: 'thief', appliedVersion: '' } });
  const [err] = (await failed) as [{ code: number; details: string }];
  assert.is(err.code, grpc.status.PERMISSION_DENIED);
  assert.match(err.details, /credential is for pool a\/p, not b\/q/);
  assert.equal(received, []);
  assert.is(server.replicasOf('b/q').length, 0);
  raw.close();
  await server.close();
});

test('the data plane keeps serving when the operator goes away, and a restarted operator re-sends nothing', async () => {
  const reg1 = new Registry();
  const s1 = new ConfigStreamServer({ credentials: creds, registry: reg1 });
  const port = await s1.listen('127.0.0.1:0');
  s1.publish('a/p', snap('sha256:v1'));
  const dp = dataPlane(`127.0.0.1:${port}`, 'a/p', creds.tokenFor('a/p'));
  dp.client.start();
  await until(() => s1.programmed('a/p').status === 'True', 'v1');
  const lost = once(dp.client, 'disconnected');
  await s1.close();
  await lost;
  assert.is(dp.serving(), 'sha256:v1');
  const reg2 = new Registry();
  const s2 = new ConfigStreamServer({ credentials: creds, registry: reg2 });
  await s2.listen(`127.0.0.1:${port}`);
  s2.publish('a/p', snap('sha256:v1'));
  await until(() => s2.programmed('a/p').status === 'True', 'Programmed after restart', 10000);
  assert.equal(dp.applied, ['sha256:v1'], 'the identical snapshot was not applied again');
  assert.is(await metric(reg2, 'bulkhead_config_pushes_total'), 0, 'nothing re-sent');
  dp.client.stop();
  await s2.close();
});

test('credential tokens: deterministic per pool, distinct across pools, need a real key', () => {
  assert.is(creds.tokenFor('a/p'), creds.tokenFor('a/p'));
  assert.is.not(creds.tokenFor('a/p'), creds.tokenFor('a/q'));
  assert.ok(creds.verify('a/p', creds.tokenFor('a/p')));
  assert.not.ok(creds.verify('a/q', creds.tokenFor('a/p')));
  assert.throws(() => new PoolCredentials(Buffer.alloc(8)), /at least 32 bytes/);
});

test.run();
