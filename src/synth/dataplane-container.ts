// The `dataplane` container: command line, ports, environment, probes, shutdown and security.
// cdk8s-plus renders most of it; the few things it cannot say are returned as JSON patches
// relative to the container (see `containerPatches`), applied by the workload at its index.

import { SECRETS_MOUNT_DIR } from './secret-volumes.ts';
import * as kplus from 'cdk8s-plus-27';
import { Duration, JsonPatch } from 'cdk8s';
import type { PoolInfra, ResourceList } from '../ir/infra.ts';
import { BOOTSTRAP_MOUNT_DIR, BOOTSTRAP_PATH } from './bootstrap-config.ts';
import { PORT_NAME_ADMIN, PORT_NAME_HTTP, PORT_NAME_HTTPS } from './service.ts';

export const CONTAINER_NAME = 'dataplane';
export const CREDENTIAL_MOUNT_DIR = '/etc/bulkhead/credential';
export const CREDENTIAL_KEY = 'token';
/** the operator's CA in the same Secret: the config stream's TLS is verified against it */
export const CREDENTIAL_CA_KEY = 'ca.crt';
/** uid/gid of the data plane (the conventional "nonroot" id of distroless-style images) */
export const DATAPLANE_UID = 65532;
/**
 * How long preStop waits before the container gets SIGTERM. Endpoint removal travels from the
 * API server through EndpointSlices to every kube-proxy and cloud balancer; during that time
 * new connections still arrive and must find the listener open.
 */
export const PRESTOP_SLEEP_SECONDS = 5;

export interface DataplaneContainerInput {
  readonly infra: PoolInfra;
  /** `<namespace>/<name>` of the pool, for `--pool` */
  readonly poolKey: string;
  readonly controlPlaneAddress?: string;
  readonly bootstrapVolume: kplus.Volume;
  readonly credentialVolume?: kplus.Volume;
  /** the pool's referenced Secrets (secret-volumes.ts) */
  readonly secretMounts?: kplus.VolumeMount[];
}

/** The lowest port the container listens on; below 1024 it needs bind permission. */
export function lowestPort(infra: PoolInfra): number {
  const { port, adminPort, tlsPort } = infra.listener;
  return Math.min(port, adminPort, tlsPort ?? 65535);
}

export function dataplaneArgs(infra: PoolInfra, poolKey: string, controlPlaneAddress?: string): string[] {
  const args = [
    'dataplane',
    '--snapshot',
    BOOTSTRAP_PATH,
    '--port',
    String(infra.listener.port),
    '--admin-port',
    String(infra.listener.adminPort),
  ];
  if (infra.secrets.length > 0) args.push('--secrets', SECRETS_MOUNT_DIR);
  if (controlPlaneAddress !== undefined) {
    args.push(
      '--control-plane',
      controlPlaneAddress,
      '--pool',
      poolKey,
      '--credential',
      `${CREDENTIAL_MOUNT_DIR}/${CREDENTIAL_KEY}`,
      '--control-plane-ca',
      `${CREDENTIAL_MOUNT_DIR}/${CREDENTIAL_CA_KEY}`,
    );
  }
  return args;
}

export function dataplaneContainerProps(input: DataplaneContainerInput): kplus.ContainerProps {
  const { infra } = input;
  const adminProbe = (path: string, period: number, timeout: number, failures: number): kplus.Probe =>
    kplus.Probe.fromHttpGet(path, {
      port: infra.listener.adminPort,
      scheme: kplus.ConnectionScheme.HTTP,
      periodSeconds: Duration.seconds(period),
      timeoutSeconds: Duration.seconds(timeout),
      failureThreshold: failures,
      successThreshold: 1,
    });

  const ports: kplus.ContainerPort[] = [
    { name: PORT_NAME_HTTP, number: infra.listener.port, protocol: kplus.Protocol.TCP },
    { name: PORT_NAME_ADMIN, number: infra.listener.adminPort, protocol: kplus.Protocol.TCP },
  ];
  if (infra.listener.tlsPort !== null) {
    ports.push({ name: PORT_NAME_HTTPS, number: infra.listener.tlsPort, protocol: kplus.Protocol.TCP });
  }

  const volumeMounts: kplus.VolumeMount[] = [
    { volume: input.bootstrapVolume, path: BOOTSTRAP_MOUNT_DIR, readOnly: true },
  ];
  if (input.credentialVolume)
    volumeMounts.push({ volume: input.credentialVolume, path: CREDENTIAL_MOUNT_DIR, readOnly: true });
  if (input.secretMounts) volumeMounts.push(...input.secretMounts);

  return {
    name: CONTAINER_NAME,
    image: infra.deployment.image,
    // Tags are pinned by the operator; IfNotPresent keeps pods starting during a registry outage
    // (cdk8s-plus would default to Always).
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
    args: dataplaneArgs(infra, input.poolKey, input.controlPlaneAddress),
    ports,
    volumeMounts,
    // Probes go to the admin port only: the traffic port may be saturated or shedding load (503),
    // which must not get a healthy proxy restarted or pulled out of rotation.
    startup: adminProbe('/healthz', 2, 2, 30),
    readiness: adminProbe('/readyz', 5, 2, 2),
    liveness: adminProbe('/healthz', 10, 3, 3),
    lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(PRESTOP_SLEEP_SECONDS)]) },
    // An empty object switches off cdk8s-plus' default requests/limits (1 CPU, 512Mi...); the
    // pool's exact values are patched in by `containerPatches` so quantities keep their spelling.
    resources: {},
    securityContext: {
      ensureNonRoot: true,
      user: DATAPLANE_UID,
      group: DATAPLANE_UID,
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    },
  };
}

/** Environment variables that need the container object (resourceFieldRef names it). */
export function addDataplaneEnv(container: kplus.Container, infra: PoolInfra): void {
  const env = container.env;
  env.addVariable('BULKHEAD_WORKERS', kplus.EnvValue.fromValue(String(infra.deployment.workers)));
  // Millicores of the CPU limit, so `workers: auto` can size itself without reading cgroups.
  // Without a limit Kubernetes reports the node's allocatable CPU here instead.
  env.addVariable(
    'BULKHEAD_CPU_LIMIT',
    kplus.EnvValue.fromResource(kplus.ResourceFieldPaths.CPU_LIMIT, { container, divisor: '1m' }),
  );
  env.addVariable('POD_NAME', kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME));
  env.addVariable('POD_NAMESPACE', kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE));
}

/** Patches relative to the container's JSON pointer (e.g. `/spec/template/spec/containers/0`). */
export function containerPatches(at: string, infra: PoolInfra): JsonPatch[] {
  const { requests, limits } = infra.deployment.resources;
  // cdk8s-plus' Capability enum spells names with a CAP_ prefix and has no ALL; the Pod Security
  // "restricted" profile only recognises the bare names, so the list is written directly.
  const capabilities: Record<string, string[]> = { drop: ['ALL'] };
  // The CRI grants no ambient capabilities, so for a non-root process this only takes effect
  // through file capabilities on the image's binary (setcap), which the bounding set must allow.
  // Without hostNetwork the pod-level ip_unprivileged_port_start sysctl (see workload.ts) makes
  // low ports bindable for any image; with hostNetwork the node's own setting applies.
  if (lowestPort(infra) < 1024) capabilities.add = ['NET_BIND_SERVICE'];
  return [
    JsonPatch.add(`${at}/resources`, typedResources(requests, limits)),
    JsonPatch.add(`${at}/securityContext/capabilities`, capabilities),
  ];
}

/**
 * Resource requirements in the shape cdk8s-plus' typed objects expect from a JSON patch.
 * Patches on a cdk8s-plus workload are applied before its typed rendering (which unwraps
 * Quantity/IntOrString and drops unknown keys), so quantities must be wrapped, not plain strings.
 */
export function typedResources(
  requests: ResourceList,
  limits: ResourceList,
): Record<string, Record<string, kplus.k8s.Quantity>> {
  const out: Record<string, Record<string, kplus.k8s.Quantity>> = {};
  const req = quantities(requests);
  const lim = quantities(limits);
  if (req) out.requests = req;
  if (lim) out.limits = lim;
  return out;
}

function quantities(list: ResourceList): Record<string, kplus.k8s.Quantity> | undefined {
  const out: Record<string, kplus.k8s.Quantity> = {};
  for (const key of ['cpu', 'memory'] as const) {
    const v = list[key];
    if (v !== undefined) out[key] = kplus.k8s.Quantity.fromString(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
