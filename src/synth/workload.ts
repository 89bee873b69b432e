// The data-plane workload: a Deployment (scaled by replicas or an HPA) or a DaemonSet (one proxy
// per node, optionally on the host network). Pod-level settings are the same for both; only the
// controller-specific spec (replicas, strategies, spreading) differs.

import { Construct } from 'constructs';
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { PoolInfra } from '../ir/infra.ts';
import type { PoolIdentity } from './identity.ts';
import { objectMetadata } from './identity.ts';
import {
  CREDENTIAL_KEY,
  CREDENTIAL_CA_KEY,
  DATAPLANE_UID,
  PRESTOP_SLEEP_SECONDS,
  addDataplaneEnv,
  containerPatches,
  dataplaneContainerProps,
  lowestPort,
} from './dataplane-container.ts';
import { kernelTuningContainerProps, kernelTuningPatches } from './kernel-tuning.ts';
import { schedulingPatches } from './scheduling.ts';
import { secretVolumeMounts } from './secret-volumes.ts';

/** Seconds on top of drain + preStop before the kubelet sends SIGKILL (process exit, log flush). */
export const TERMINATION_MARGIN_SECONDS = 10;

export function terminationGracePeriodSeconds(infra: PoolInfra): number {
  return Math.ceil(infra.drainSeconds) + PRESTOP_SLEEP_SECONDS + TERMINATION_MARGIN_SECONDS;
}

export interface PoolWorkloadProps {
  readonly infra: PoolInfra;
  readonly identity: PoolIdentity;
  readonly serviceAccount: kplus.IServiceAccount;
  readonly bootstrapConfigMap: kplus.IConfigMap;
  readonly controlPlaneAddress?: string;
}

const POD_SPEC = '/spec/template/spec';

export class PoolWorkload extends Construct {
  readonly workload: kplus.Deployment | kplus.DaemonSet;

  constructor(scope: Construct, id: string, props: PoolWorkloadProps) {
    super(scope, id);
    const { infra, identity } = props;
    const hostNetwork = infra.deployment.hostNetwork;
    const lowPort = lowestPort(infra);
    const common: kplus.WorkloadProps = {
      metadata: objectMetadata(identity, identity.baseName),
      podMetadata: { labels: { ...identity.labels } },
      // cdk8s-plus would otherwise select on its own generated `cdk8s.io/metadata.addr` label;
      // the selector must consist of the stable pool labels only (selectors are immutable).
      select: false,
      serviceAccount: props.serviceAccount,
      automountServiceAccountToken: false,
      hostNetwork,
      // With hostNetwork the default policy would resolve through the node's resolv.conf and
      // lose cluster DNS (Service names of backends).
      dns: {
        policy: hostNetwork ? kplus.DnsPolicy.CLUSTER_FIRST_WITH_HOST_NET : kplus.DnsPolicy.CLUSTER_FIRST,
        hostnameAsFQDN: false,
      },
      // cdk8s-plus options that would add objects or rules of their own: no NetworkPolicy
      // (traffic policy is the cluster owner's), no pod anti-affinity (spread is done with
      // topologySpreadConstraints in scheduling.ts).
      isolate: false,
      spread: false,
      restartPolicy: kplus.RestartPolicy.ALWAYS,
      terminationGracePeriod: Duration.seconds(terminationGracePeriodSeconds(infra)),
      securityContext: {
        ensureNonRoot: true,
        user: DATAPLANE_UID,
        group: DATAPLANE_UID,
        // group-owns the credential Secret's files so the non-root process can read them
        fsGroup: DATAPLANE_UID,
        fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
        // Namespaced and on Kubernetes' safe list, but refused together with hostNetwork; there
        // the node's own setting applies.
        sysctls:
          lowPort < 1024 && !hostNetwork
            ? [{ name: 'net.ipv4.ip_unprivileged_port_start', value: String(lowPort) }]
            : [],
      },
    };

    if (infra.deployment.mode === 'Deployment') {
      const deployment = new kplus.Deployment(this, 'Resource', {
        ...common,
        replicas: infra.replicas,
        minReady: Duration.seconds(5),
        progressDeadline: Duration.seconds(600),
        // Never below the desired capacity during a rollout: surge first, then retire old pods.
        strategy: kplus.DeploymentStrategy.rollingUpdate({
          maxSurge: kplus.PercentOrAbsolute.percent(25),
          maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
        }),
      });
      // The HPA owns spec.replicas; a value here would reset the pool's size on every apply.
      if (infra.autoscaling) deployment.markHasAutoscaler();
      this.workload = deployment;
    } else {
      this.workload = new kplus.DaemonSet(this, 'Resource', { ...common, minReadySeconds: 5 });
    }
    const w = this.workload;
    w.select(kplus.LabelSelector.of({ labels: { ...identity.selectorLabels } }));

    const bootstrapVolume = kplus.Volume.fromConfigMap(this, 'BootstrapVolume', props.bootstrapConfigMap, {
      name: 'bootstrap',
      optional: false,
    });
    const credentialVolume =
      props.controlPlaneAddress === undefined
        ? undefined
        : kplus.Volume.fromSecret(
            this,
            'CredentialVolume',
            kplus.Secret.fromSecretName(this, 'CredentialSecret', identity.credentialSecretName),
            {
              name: 'credential',
              optional: false,
              defaultMode: 0o440,
              items: {
                [CREDENTIAL_KEY]: { path: CREDENTIAL_KEY },
                [CREDENTIAL_CA_KEY]: { path: CREDENTIAL_CA_KEY },
              },
            },
          );

    const container = w.addContainer(
      dataplaneContainerProps({
        infra,
        poolKey: `${infra.pool.namespace}/${infra.pool.name}`,
        controlPlaneAddress: props.controlPlaneAddress,
        bootstrapVolume,
        credentialVolume,
        secretMounts: secretVolumeMounts(this, infra),
      }),
    );
    addDataplaneEnv(container, infra);
    if (infra.kernel.enabled) w.addInitContainer(kernelTuningContainerProps(infra));

    const api = ApiObject.of(w);
    // cdk8s-plus stamps its construct-address label on every pod template even with select:false;
    // it is not ours, carries no meaning for the pool and would churn if constructs were renamed.
    api.addJsonPatch(JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'));
    api.addJsonPatch(JsonPatch.add(`${POD_SPEC}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }));
    api.addJsonPatch(...containerPatches(`${POD_SPEC}/containers/0`, infra));
    if (infra.kernel.enabled) api.addJsonPatch(...kernelTuningPatches(`${POD_SPEC}/initContainers/0`));
    api.addJsonPatch(...schedulingPatches(POD_SPEC, infra, identity));
    if (infra.deployment.mode === 'DaemonSet') {
      // cdk8s-plus has no DaemonSet update strategy. No surge: with hostNetwork a second pod on
      // the node could not bind the same ports, so replace one node at a time instead.
      api.addJsonPatch(
        JsonPatch.add('/spec/updateStrategy', {
          type: 'RollingUpdate',
          // typed shape: patches run before cdk8s-plus' typed rendering (see typedResources)
          rollingUpdate: {
            maxSurge: kplus.k8s.IntOrString.fromNumber(0),
            maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
          },
        }),
      );
    }
  }
}
