// PoolInfra: what the synthesizer needs to turn one IngressPool into Kubernetes workloads.
// Produced by the compiler next to the PoolSnapshot; plain data, no defaults left to resolve.

import { IMAGE } from '../version.ts';
import type { ObjectRef } from './snapshot.ts';

/**
 * The data-plane image used when a pool does not name one, offline (`bulkhead render`): this
 * release's image (src/version.ts). The operator replaces it with its own image (--image /
 * BULKHEAD_IMAGE), so an empty spec.deployment.image always means "the operator's image".
 */
export const DEFAULT_DATAPLANE_IMAGE = IMAGE;

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface ResourceList {
  cpu?: string;
  memory?: string;
}

/** A Secret the pool's pods mount as files at `<secrets dir>/<namespace>/<name>/` (always the pool's namespace). */
export interface SecretMountRef {
  namespace: string;
  name: string;
}

export interface PoolInfra {
  /** the IngressPool itself; uid feeds owner references (empty offline, e.g. `bulkhead render`) */
  pool: ObjectRef & { uid: string; productLine: string };
  /** ignored by the synthesizer when autoscaling is set (the HPA owns replicas then) */
  replicas: number;
  autoscaling: {
    minReplicas: number;
    maxReplicas: number;
    targetCPUUtilizationPercentage: number;
    scaleDownStabilizationSeconds: number;
  } | null;
  deployment: {
    mode: 'Deployment' | 'DaemonSet';
    hostNetwork: boolean;
    image: string;
    resources: { requests: ResourceList; limits: ResourceList };
    nodeSelector: Record<string, string>;
    tolerations: Toleration[];
    /** 'auto' = from the container CPU limit (cgroup quota) */
    workers: 'auto' | number;
  };
  service: {
    type: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
    annotations: Record<string, string>;
    externalTrafficPolicy: 'Local' | 'Cluster';
  };
  listener: { port: number; adminPort: number; tlsPort: number | null };
  /** WebSocket drain period on shutdown; terminationGracePeriod must cover it */
  drainSeconds: number;
  kernel: { enabled: boolean; somaxconn: number; ipLocalPortRange: string; tcpTwReuse: boolean };
  /**
   * Every Secret the pool's snapshot references (certificates, CAs, JWKS, Redis URLs), sorted by
   * namespace then name: the pool's pods mount exactly these at `<secrets dir>/<namespace>/<name>/`
   * (a Secret of another namespace through the operator's copy in the pool's namespace).
   */
  secrets: SecretMountRef[];
  /** the pool's current snapshot (JSON) for the bootstrap ConfigMap, and its version */
  bootstrapSnapshot: string;
  snapshotVersion: string;
}
