// Upstream TLS and mTLS per cluster against real backends that require a client certificate: an
// https HTTP/1.1 backend and a gRPC backend over TLS (h2 by ALPN), reached through the proxy's
// plaintext port. Without the client certificate, or trusting the wrong CA, the proxy answers 502.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import https from 'node:https';
import type tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { UpstreamTlsIR } from '../../src/ir/snapshot.ts';
import {
  closeServer,
  cluster,
  delay,
  listen,
  request,
  route,
  snapshot,
  startProxy,
} from '../dataplane/fixtures.ts';
import { Pki } from './pki.ts';

const pki = new Pki();
const backendCA = pki.ca('internal backends');
const gatewayCA = pki.ca('gateway clients');
const otherCA = pki.ca('unrelated');
const serverCert = pki.leaf(backendCA, 'payments', { dns: ['payments.internal'], usage: 'serverAuth' });
const gatewayCert = pki.leaf(gatewayCA, 'bulkhead-gateway', { dns: ['gateway.edge'], usage: 'clientAuth' });
pki.secretFile('team', 'internal-ca', 'ca.crt', backendCA.cert);
pki.secretFile('team', 'wrong-ca', 'ca.crt', otherCA.cert);
pki.tlsSecret('team', 'gateway-client', gatewayCert);

const h1 = await listen(
  https.createServer(
    {
      cert: serverCert.cert,
      key: serverCert.key,
      ca: gatewayCA.cert,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as tls.TLSSocket).getPeerCertificate();
      req.resume();
      req.on('end', () => res.end(`hello ${peer.subject?.CN}`));
    },
  ),
);

const id = (b: Buffer) => b;
const echo = {
  path: '/test.Echo/Unary',
  requestStream: false,
  responseStream: false,
  requestSerialize: id,
  requestDeserialize: id,
  responseSerialize: id,
  responseDeserialize: id,
} satisfies grpc.MethodDefinition<Buffer, Buffer>;
const grpcServer = new grpc.Server();
grpcServer.addService(
  { unary: echo },
  {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.concat([Buffer.from('tls:'), call.request])),
  },
);
// grpc.health.v1.Health/Check answering SERVING (HealthCheckResponse{status: 1} = 0x08 0x01)
const health = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  },
} satisfies grpc.ServiceDefinition;
grpcServer.addService(health, {
  check: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
    cb(null, Buffer.from([0x08, 0x01])),
});
const grpcPort = await new Promise<number>((resolve, reject) =>
  grpcServer.bindAsync(
    '127.0.0.1:0',
    grpc.ServerCredentials.createSsl(
      gatewayCA.cert,
      [{ cert_chain: serverCert.cert, private_key: serverCert.key }],
      true,
    ),
    (e, p) => (e ? reject(e) : resolve(p)),
  ),
);

const ref = (name: string) => ({ namespace: 'team', name });
const mtls: UpstreamTlsIR = {
  caSecretRef: ref('internal-ca'),
  clientCertificateRef: ref('gateway-client'),
  serverName: 'payments.internal',
};

const probe = {
  path: '/healthz',
  intervalMs: 50,
  timeoutMs: 1000,
  healthyThreshold: 1,
  unhealthyThreshold: 1,
  expectedStatuses: [200],
};

const dp = await startProxy(
  snapshot({
    routes: [
      route('team/pay/h1', 'team/pay:443', { match: { path: { type: 'PathPrefix', value: '/h1' } } }),
      route('team/pay/nocert', 'team/pay:443~nocert', {
        match: { path: { type: 'PathPrefix', value: '/nocert' } },
      }),
      route('team/pay/wrongca', 'team/pay:443~wrongca', {
        match: { path: { type: 'PathPrefix', value: '/wrongca' } },
      }),
      route('team/pay/hc', 'team/pay:443~hc', { match: { path: { type: 'PathPrefix', value: '/hc' } } }),
      route('team/pay/hcbad', 'team/pay:443~hcbad', {
        match: { path: { type: 'PathPrefix', value: '/hcbad' } },
      }),
      route('team/pay/grpc', 'team/grpc:443', {
        match: { path: { type: 'PathPrefix', value: '/test.Echo' } },
      }),
      route('team/pay/grpchc', 'team/grpc:443~hc', {
        match: { path: { type: 'PathPrefix', value: '/grpchc' } },
      }),
      route('team/pay/grpchcbad', 'team/grpc:443~hcbad', {
        match: { path: { type: 'PathPrefix', value: '/grpchcbad' } },
      }),
    ],
    clusters: [
      cluster('team/pay:443', [h1.port], { tls: mtls }),
      cluster('team/pay:443~nocert', [h1.port], { tls: { ...mtls, clientCertificateRef: null } }),
      cluster('team/pay:443~wrongca', [h1.port], { tls: { ...mtls, caSecretRef: ref('wrong-ca') } }),
      cluster('team/pay:443~hc', [h1.port], { tls: mtls, healthCheck: { active: probe } }),
      cluster('team/pay:443~hcbad', [h1.port], {
        tls: { ...mtls, caSecretRef: ref('wrong-ca') },
        healthCheck: { active: probe },
      }),
      cluster('team/grpc:443', [grpcPort], { protocol: 'H2C', tls: mtls }),
      cluster('team/grpc:443~hc', [grpcPort], {
        protocol: 'H2C',
        tls: mtls,
        healthCheck: { active: { ...probe, grpc: { service: '' } } },
      }),
      cluster('team/grpc:443~hcbad', [grpcPort], {
        protocol: 'H2C',
        tls: { ...mtls, caSecretRef: ref('wrong-ca') },
        healthCheck: { active: { ...probe, grpc: { service: '' } } },
      }),
    ],
  }),
  { secretsDir: pki.secretsDir },
);

test('HTTP/1.1 over mTLS: the backend sees the gateway certificate', async () => {
  const r = await request(dp.port, { path: '/h1/charge' });
  assert.is(r.status, 200, r.body);
  assert.is(r.body, 'hello bulkhead-gateway');
});

test('without the client certificate, or trusting the wrong CA, the proxy answers 502', async () => {
  assert.is((await request(dp.port, { path: '/nocert' })).status, 502);
  assert.is((await request(dp.port, { path: '/wrongca' })).status, 502);
});

test('active health checks of a TLS cluster use its TLS settings (a wrong CA marks the endpoint down)', async () => {
  await delay(300);
  assert.is((await request(dp.port, { path: '/hc' })).status, 200);
  const bad = await request(dp.port, { path: '/hcbad' });
  assert.is(bad.status, 503);
  assert.is(bad.headers['x-bulkhead-reason'], 'no-healthy-upstream');
});

test('gRPC health checks of a TLS cluster use its TLS settings (a wrong CA marks the endpoint down)', async () => {
  await delay(300);
  // a routed request reaching the backend (its unknown path answers 404) proves the endpoint is
  // healthy; the wrong-CA cluster has no healthy endpoint left
  const ok = await request(dp.port, { path: '/grpchc' });
  assert.is.not(ok.headers['x-bulkhead-reason'], 'no-healthy-upstream');
  const bad = await request(dp.port, { path: '/grpchcbad' });
  assert.is(bad.status, 503);
  assert.is(bad.headers['x-bulkhead-reason'], 'no-healthy-upstream');
});

test('gRPC over h2 + mTLS from a plaintext gRPC client', async () => {
  const Client = grpc.makeGenericClientConstructor({ unary: echo }, 'Echo');
  const client = new Client(`127.0.0.1:${dp.port}`, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, (...a: unknown[]) => void>;
  try {
    const out = await new Promise<Buffer>((resolve, reject) =>
      client.unary!(Buffer.from('ping'), { deadline: Date.now() + 5000 }, (e: Error | null, r: Buffer) =>
        e ? reject(e) : resolve(r),
      ),
    );
    assert.is(out.toString(), 'tls:ping');
  } finally {
    client.close();
  }
});

test('teardown', async () => {
  await dp.close();
  await closeServer(h1);
  await new Promise<void>((r) => grpcServer.tryShutdown(() => r()));
  pki.close();
});

test.run();
