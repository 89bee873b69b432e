// Traffic and admin Services: types, ports, policies and what never leaks onto the traffic path.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { only, poolInfra, synth } from './pool.ts';

const traffic = (objects: ReturnType<typeof synth>): any => only(objects, 'Service', 'bulkhead-storefront');
const admin = (objects: ReturnType<typeof synth>): any =>
  only(objects, 'Service', 'bulkhead-storefront-admin');

test('traffic: type, annotations, externalTrafficPolicy for LoadBalancer and NodePort', () => {
  const lb = traffic(synth(poolInfra((p) => (p.service.annotations = { 'example.com/x': 'y' }))));
  assert.equal([lb.spec.type, lb.spec.externalTrafficPolicy], ['LoadBalancer', 'Local']);
  assert.equal(lb.metadata.annotations, { 'example.com/x': 'y' });
  const np = traffic(
    synth(
      poolInfra((p) => (p.service = { type: 'NodePort', annotations: {}, externalTrafficPolicy: 'Cluster' })),
    ),
  );
  assert.equal([np.spec.type, np.spec.externalTrafficPolicy], ['NodePort', 'Cluster']);
  assert.not.ok(np.metadata.annotations, 'no empty annotations map');
  const cip = traffic(synth(poolInfra((p) => (p.service.type = 'ClusterIP'))));
  assert.is(cip.spec.type, 'ClusterIP');
  assert.not.ok('externalTrafficPolicy' in cip.spec, 'not set on ClusterIP');
  assert.not.ok('externalIPs' in cip.spec, 'no empty externalIPs');
});

test('traffic: http and https ports with appProtocol, never the admin port', () => {
  const plain = traffic(synth(poolInfra()));
  assert.equal(plain.spec.ports, [
    { appProtocol: 'http', name: 'http', port: 8080, protocol: 'TCP', targetPort: 8080 },
  ]);
  const tls = traffic(synth(poolInfra((p) => (p.listener.tlsPort = 8443))));
  assert.equal(
    tls.spec.ports.map((x: any) => [x.name, x.port, x.appProtocol]),
    [
      ['http', 8080, 'http'],
      ['https', 8443, 'https'],
    ],
  );
  for (const s of [plain, tls])
    assert.not.ok(s.spec.ports.some((x: any) => x.port === 9901 || x.name === 'admin'));
});

test('hostNetwork: traffic Service becomes ClusterIP with the same ports, whatever was asked', () => {
  const objects = synth(
    poolInfra((p) => {
      p.deployment.mode = 'DaemonSet';
      p.deployment.hostNetwork = true;
      p.listener.tlsPort = 8443;
    }),
  );
  const s = traffic(objects);
  assert.is(s.spec.type, 'ClusterIP');
  assert.not.ok('externalTrafficPolicy' in s.spec);
  assert.equal(
    s.spec.ports.map((x: any) => x.port),
    [8080, 8443],
  );
});

test('admin: headless, admin port only, includes not-ready pods, no provider annotations', () => {
  const a = admin(
    synth(
      poolInfra(
        (p) => (p.service.annotations = { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }),
      ),
    ),
  );
  assert.equal([a.spec.type, a.spec.clusterIP, a.spec.publishNotReadyAddresses], ['ClusterIP', 'None', true]);
  assert.equal(a.spec.ports, [
    { appProtocol: 'http', name: 'admin', port: 9901, protocol: 'TCP', targetPort: 9901 },
  ]);
  assert.not.ok(a.metadata.annotations);
});

test.run();
