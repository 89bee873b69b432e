import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'undici';
import {
  buildValidatingWebhookConfiguration,
  createWebhookServer,
  generateWebhookCertificates,
  type WebhookServer,
} from '../../src/operator/webhook/index.ts';
import { policy, route, sampleWorld } from './world.ts';

let server: WebhookServer;
let agent: Agent;
let caCert: string;
let servingCert: string;

test.before(async () => {
  const certs = await generateWebhookCertificates({ hosts: ['127.0.0.1', 'localhost'] });
  caCert = certs.caCert;
  servingCert = certs.cert;
  server = await createWebhookServer({
    key: certs.key,
    cert: certs.cert,
    port: 0,
    host: '127.0.0.1',
    world: sampleWorld,
  });
  agent = new Agent({ connect: { ca: caCert } });
});

test.after(async () => {
  await agent?.close();
  await server?.close();
});

function review(operation: string, object: any, oldObject?: any) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-1',
      kind: { group: 'bulkhead.dev', version: 'v1alpha1', kind: object.kind },
      operation,
      object,
      oldObject,
    },
  };
}

async function post(body: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`https://127.0.0.1:${server.port}/validate`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, json: await res.body.json() };
}

test('the serving certificate is signed by the CA and names the hosts', () => {
  const ca = new X509Certificate(caCert);
  assert.ok(ca.ca);
  const leaf = new X509Certificate(servingCert);
  assert.ok(leaf.checkIssued(ca));
  assert.ok(leaf.verify(ca.publicKey));
  assert.ok(!leaf.ca);
  assert.match(leaf.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(leaf.subjectAltName ?? '', /DNS:localhost/);
});

test('a conflicting route is denied over HTTPS with message, causes and the uid', async () => {
  const { status, json } = await post(
    review('CREATE', route('team-b', 'copycat', { created: '2026-05-01T00:00:00Z' })),
  );
  assert.is(status, 200);
  assert.is(json.apiVersion, 'admission.k8s.io/v1');
  assert.is(json.response.uid, 'u-1');
  assert.is(json.response.allowed, false);
  assert.match(
    json.response.status.message,
    /^spec\.rules\[0\]\.matches\[0\]\.path: .*older RouteSplit team-a\/shop/,
  );
  assert.is(json.response.status.details.causes[0].field, 'spec.rules[0].matches[0].path');
});

test('several problems: one line each', async () => {
  const bad = route('team-b', 'bad');
  bad.spec.rules[0].backends[0].weight = -1;
  bad.spec.hostnames = ['Bad_Host'];
  const { json } = await post(review('CREATE', bad));
  assert.is(json.response.allowed, false);
  const lines = json.response.status.message.split('\n');
  assert.is(lines.length, json.response.status.details.causes.length);
  assert.ok(lines.length >= 2);
  assert.ok(
    lines.includes(
      `spec.rules[0].backends[0].weight: ${json.response.status.details.causes.find((c: any) => c.field === 'spec.rules[0].backends[0].weight').message}`,
    ),
  );
});

test('admitted with warnings when the pool does not exist yet', async () => {
  const { json } = await post(review('CREATE', route('team-b', 'early', { pool: 'later', path: '/w' })));
  assert.is(json.response.allowed, true);
  assert.equal(json.response.warnings, ['spec.poolRef: IngressPool edge/later not found']);
});

test('DELETE is always allowed; an UPDATE that keeps the spec is allowed with the problems as warnings', async () => {
  const dup = policy('team-a', 'zz-dup', { kind: 'RouteSplit', name: 'shop' }, '2026-06-01T00:00:00Z');
  assert.is((await post(review('DELETE', dup))).json.response.allowed, true);
  assert.is((await post(review('CREATE', dup))).json.response.allowed, false);
  const relabelled = { ...dup, metadata: { ...dup.metadata, labels: { a: 'b' } } };
  const { json } = await post(review('UPDATE', relabelled, dup));
  assert.is(json.response.allowed, true);
  assert.match(
    json.response.warnings[0],
    /^spec\.targetRef: .*already has RateLimitPolicy team-a\/shop-limit/,
  );
});

test('a body that is not an AdmissionReview gets 400 with a coded error', async () => {
  const { status, json } = await post({ hello: 'world' });
  assert.is(status, 400);
  assert.is(json.code, 'BH_ERR_ADMISSION_REVIEW');
});

test('ValidatingWebhookConfiguration: Ignore, 5 s, no side effects, v1, Equivalent, three resources, kube-system excluded', () => {
  const cfg = buildValidatingWebhookConfiguration({
    url: 'https://127.0.0.1:1/validate',
    caBundlePem: caCert,
  });
  const w = cfg.webhooks[0];
  assert.is(w.failurePolicy, 'Ignore');
  assert.is(w.timeoutSeconds, 5);
  assert.is(w.sideEffects, 'None');
  assert.equal(w.admissionReviewVersions, ['v1']);
  assert.is(w.matchPolicy, 'Equivalent');
  assert.equal(w.rules[0].resources, ['ingresspools', 'routesplits', 'ratelimitpolicies']);
  assert.equal(w.rules[0].operations, ['CREATE', 'UPDATE']);
  assert.equal(w.namespaceSelector.matchExpressions[0], {
    key: 'kubernetes.io/metadata.name',
    operator: 'NotIn',
    values: ['kube-system'],
  });
  assert.is(Buffer.from(w.clientConfig.caBundle, 'base64').toString(), caCert);
  const svc = buildValidatingWebhookConfiguration({
    service: { namespace: 'bulkhead-system', name: 'bulkhead-webhook' },
  });
  assert.equal(svc.webhooks[0].clientConfig, {
    service: { namespace: 'bulkhead-system', name: 'bulkhead-webhook', path: '/validate', port: 443 },
  });
  assert.throws(() => buildValidatingWebhookConfiguration({}), /exactly one of service or url/);
});

test('certificate requests with bad host names are refused before openssl runs', async () => {
  try {
    await generateWebhookCertificates({ hosts: ['bad host;rm'] });
    assert.unreachable();
  } catch (err: any) {
    assert.is(err.code, 'BH_ERR_WEBHOOK_CERT');
  }
});

test.run();
