// The data-plane pod: probes, replicas ownership, shutdown timing, resources, args and env,
// security context and the DaemonSet/hostNetwork variant.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dataplane, only, podSpec, poolInfra, synth, workload } from './pool.ts';
import { PRESTOP_SLEEP_SECONDS } from '../../src/synth/dataplane-container.ts';

const hpa = {
  minReplicas: 2,
  maxReplicas: 8,
  targetCPUUtilizationPercentage: 70,
  scaleDownStabilizationSeconds: 120,
};

test('probes: readiness, liveness and startup all target the admin port, never the traffic port', () => {
  const infra = poolInfra((p) => (p.listener = { port: 8000, adminPort: 9100, tlsPort: 8443 }));
  const c = dataplane(synth(infra));
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    assert.ok(c[probe]?.httpGet, `${probe} is an httpGet probe`);
    assert.is(c[probe].httpGet.port, 9100, `${probe} port`);
  }
  assert.is(c.readinessProbe.httpGet.path, '/readyz');
  assert.is(c.livenessProbe.httpGet.path, '/healthz');
  // the liveness probe must not kill a pod that is merely slow: more tolerant than readiness
  assert.ok(
    c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold >
      c.readinessProbe.periodSeconds * c.readinessProbe.failureThreshold,
  );
});

test('replicas: set from the pool without autoscaling, absent when the HPA owns them', () => {
  const fixed = workload(synth(poolInfra((p) => (p.replicas = 3))));
  assert.is(fixed.spec.replicas, 3);
  const scaled = synth(poolInfra((p) => ((p.replicas = 3), (p.autoscaling = hpa))));
  assert.not.ok('replicas' in workload(scaled).spec, 'no replicas next to an HPA');
  const h = only(scaled, 'HorizontalPodAutoscaler');
  assert.equal(h.spec.scaleTargetRef, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: 'bulkhead-storefront',
  });
});

test('termination: grace period covers drain + preStop with a margin; preStop sleeps', () => {
  for (const drain of [0, 30, 300, 12.5]) {
    const objects = synth(poolInfra((p) => (p.drainSeconds = drain)));
    const grace = podSpec(objects).terminationGracePeriodSeconds;
    assert.ok(Number.isInteger(grace), 'integer seconds');
    assert.ok(grace >= drain + PRESTOP_SLEEP_SECONDS + 1, `grace ${grace} for drain ${drain}`);
    assert.equal(dataplane(objects).lifecycle.preStop.exec.command, ['sleep', String(PRESTOP_SLEEP_SECONDS)]);
  }
});

test('resources: exactly the pool values, none of the cdk8s-plus defaults', () => {
  const given = { requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '1500m', memory: '1Gi' } };
  assert.equal(dataplane(synth(poolInfra((p) => (p.deployment.resources = given))))!.resources, given);
  const onlyReq = { requests: { cpu: '1' }, limits: {} };
  assert.equal(dataplane(synth(poolInfra((p) => (p.deployment.resources = onlyReq))))!.resources, {
    requests: { cpu: '1' },
  });
  const none = synth(poolInfra((p) => (p.deployment.resources = { requests: {}, limits: {} })));
  assert.equal(dataplane(none).resources ?? {}, {});
  // cdk8s-plus' defaults: 1000m/1500m CPU, 512Mi/2048Mi memory
  const text = JSON.stringify(workload(none));
  for (const d of ['"1000m"', '"1500m"', '"512Mi"', '"2048Mi"'])
    assert.not.ok(text.includes(d), `default ${d} leaked`);
});

test('args and credential: offline bootstrap only, or control plane with the credential Secret', () => {
  const offline = synth(poolInfra());
  assert.equal(dataplane(offline).args, [
    'dataplane',
    '--snapshot',
    '/etc/bulkhead/bootstrap/snapshot.json',
    '--port',
    '8080',
    '--admin-port',
    '9901',
  ]);
  assert.not.ok(
    podSpec(offline).volumes.some((v: any) => v.secret),
    'no Secret volume offline',
  );

  const online = synth(poolInfra(), { controlPlaneAddress: 'op.bulkhead-system.svc:9443' });
  assert.equal(dataplane(online).args.slice(7), [
    '--control-plane',
    'op.bulkhead-system.svc:9443',
    '--pool',
    'edge-storefront/storefront',
    '--credential',
    '/etc/bulkhead/credential/token',
    '--control-plane-ca',
    '/etc/bulkhead/credential/ca.crt',
  ]);
  const secretVol = podSpec(online).volumes.find((v: any) => v.secret);
  assert.is(secretVol.secret.secretName, 'bulkhead-storefront-credential');
  assert.equal(secretVol.secret.items, [
    { key: 'ca.crt', path: 'ca.crt' },
    { key: 'token', path: 'token' },
  ]);
  const mount = dataplane(online).volumeMounts.find((m: any) => m.name === secretVol.name);
  assert.equal([mount.mountPath, mount.readOnly], ['/etc/bulkhead/credential', true]);
});

test('env: workers, CPU limit from the downward API in millicores, pod name and namespace', () => {
  const env = dataplane(synth(poolInfra((p) => (p.deployment.workers = 6)))).env;
  assert.equal(
    env.map((e: any) => e.name),
    ['BULKHEAD_WORKERS', 'BULKHEAD_CPU_LIMIT', 'POD_NAME', 'POD_NAMESPACE'],
  );
  assert.is(env[0].value, '6');
  assert.equal(env[1].valueFrom, {
    resourceFieldRef: { containerName: 'dataplane', divisor: '1m', resource: 'limits.cpu' },
  });
  assert.equal(env[2].valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  assert.equal(env[3].valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
  assert.is(dataplane(synth(poolInfra())).env[0].value, 'auto');
});

test('security: non-root, read-only, no escalation, ALL dropped; NET_BIND_SERVICE only below 1024', () => {
  const objects = synth(poolInfra());
  const sc = dataplane(objects).securityContext;
  assert.equal(
    [sc.runAsNonRoot, sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation, sc.privileged],
    [true, true, false, false],
  );
  assert.equal(sc.capabilities, { drop: ['ALL'] });
  assert.is(podSpec(objects).automountServiceAccountToken, false);
  assert.is(podSpec(objects).securityContext.seccompProfile.type, 'RuntimeDefault');
  assert.not.ok(podSpec(objects).securityContext.sysctls, 'no sysctls for high ports');
  assert.is(only(objects, 'ServiceAccount').automountServiceAccountToken, false);

  const low = synth(poolInfra((p) => (p.listener = { port: 80, adminPort: 9901, tlsPort: 443 })));
  assert.equal(dataplane(low).securityContext.capabilities, { add: ['NET_BIND_SERVICE'], drop: ['ALL'] });
  assert.equal(podSpec(low).securityContext.sysctls, [
    { name: 'net.ipv4.ip_unprivileged_port_start', value: '80' },
  ]);
});

test('kernel tuning: privileged sysctl init container only when enabled', () => {
  assert.not.ok(podSpec(synth(poolInfra())).initContainers, 'none by default');
  const tuned = podSpec(
    synth(
      poolInfra(
        (p) =>
          (p.kernel = { enabled: true, somaxconn: 4096, ipLocalPortRange: '2000  64000', tcpTwReuse: false }),
      ),
    ),
  );
  assert.is(tuned.initContainers.length, 1);
  const init = tuned.initContainers[0];
  assert.equal(init.command, [
    'sysctl',
    '-w',
    'net.core.somaxconn=4096',
    'net.ipv4.ip_local_port_range=2000 64000',
    'net.ipv4.tcp_tw_reuse=0',
  ]);
  assert.is(init.securityContext.privileged, true);
  assert.is(init.securityContext.runAsUser, 0);
  assert.is(init.securityContext.runAsNonRoot, false, 'overrides the pod-level runAsNonRoot');
});

test('daemonset: hostNetwork with ClusterFirstWithHostNet DNS, no spread, no surge, no PDB', () => {
  const objects = synth(
    poolInfra((p) => ((p.deployment.mode = 'DaemonSet'), (p.deployment.hostNetwork = true))),
  );
  const ds = only(objects, 'DaemonSet');
  const spec = ds.spec.template.spec;
  assert.is(spec.hostNetwork, true);
  assert.is(spec.dnsPolicy, 'ClusterFirstWithHostNet');
  assert.not.ok(spec.topologySpreadConstraints, 'one pod per node already');
  assert.equal(ds.spec.updateStrategy, {
    rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    type: 'RollingUpdate',
  });
  assert.not.ok(objects.some((o) => o.kind === 'PodDisruptionBudget' || o.kind === 'Deployment'));

  const plain = podSpec(synth(poolInfra((p) => (p.deployment.mode = 'DaemonSet'))));
  assert.equal([plain.hostNetwork, plain.dnsPolicy], [false, 'ClusterFirst']);
});

test('deployment: spread over hostname and zone as a preference; rollout never drops capacity', () => {
  const objects = synth(poolInfra());
  const spread = podSpec(objects).topologySpreadConstraints;
  assert.equal(
    spread.map((s: any) => [s.topologyKey, s.whenUnsatisfiable, s.maxSkew]),
    [
      ['kubernetes.io/hostname', 'ScheduleAnyway', 1],
      ['topology.kubernetes.io/zone', 'ScheduleAnyway', 1],
    ],
  );
  assert.equal(spread[0].labelSelector.matchLabels, workload(objects).spec.selector.matchLabels);
  assert.equal(workload(objects).spec.strategy.rollingUpdate.maxUnavailable, 0);
});

test('scheduling: nodeSelector and tolerations copied as given, in order', () => {
  const tolerations = [
    { key: 'dedicated', operator: 'Equal' as const, value: 'edge', effect: 'NoSchedule' as const },
    { operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 30 },
  ];
  const spec = podSpec(
    synth(
      poolInfra(
        (p) => ((p.deployment.tolerations = tolerations), (p.deployment.nodeSelector = { b: '2', a: '1' })),
      ),
    ),
  );
  assert.equal(spec.tolerations, tolerations);
  assert.equal(spec.nodeSelector, { a: '1', b: '2' });
  assert.not.ok(podSpec(synth(poolInfra())).tolerations, 'absent when none are given');
});

test.run();
