// Opt-in kernel tuning (`spec.kernel.enabled`): a privileged init container that raises the
// listen backlog cap, widens the ephemeral port range for upstream connections and allows reuse
// of TIME_WAIT sockets, before the proxy starts.
//
// Why an init container and not `securityContext.sysctls`: all three settings live in the network
// namespace, so a write from inside the pod touches only the pod, but Kubernetes' "safe" sysctl
// list (allowed on every kubelet) contains only net.ipv4.ip_local_port_range of the three.
// net.core.somaxconn and net.ipv4.tcp_tw_reuse are namespaced yet "unsafe": pods asking for them
// are rejected unless every node's kubelet runs with --allowed-unsafe-sysctls. A privileged init
// container writes /proc/sys directly and needs no node configuration; the price is a namespace
// whose Pod Security level admits privileged containers.
//
// With hostNetwork the pod shares the node's network namespace, so these writes change the node
// itself (for every host-network process on it) and outlive the pod. That is the intent for a
// DaemonSet that owns the node's edge traffic, and the reason the feature is opt-in.

import * as kplus from 'cdk8s-plus-27';
import { JsonPatch } from 'cdk8s';
import type { PoolInfra } from '../ir/infra.ts';
import { typedResources } from './dataplane-container.ts';

export const KERNEL_TUNING_CONTAINER = 'kernel-tuning';
/** a small image with a `sysctl` binary; pinned so node caches stay valid */
export const KERNEL_TUNING_IMAGE = 'busybox:1.36.1';

export function sysctlCommand(kernel: PoolInfra['kernel']): string[] {
  const range = kernel.ipLocalPortRange.trim().split(/\s+/).join(' ');
  // exec form, no shell: the space inside the port range needs no quoting here
  return [
    'sysctl',
    '-w',
    `net.core.somaxconn=${kernel.somaxconn}`,
    `net.ipv4.ip_local_port_range=${range}`,
    `net.ipv4.tcp_tw_reuse=${kernel.tcpTwReuse ? 1 : 0}`,
  ];
}

export function kernelTuningContainerProps(infra: PoolInfra): kplus.ContainerProps {
  return {
    name: KERNEL_TUNING_CONTAINER,
    image: KERNEL_TUNING_IMAGE,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
    command: sysctlCommand(infra.kernel),
    // Small and explicit, so a namespace LimitRange does not inject large defaults and the pod's
    // effective request stays that of the data plane.
    resources: {},
    securityContext: {
      // /proc/sys is read-only for unprivileged containers; writing it needs privileged + root.
      privileged: true,
      ensureNonRoot: false,
      user: 0,
      group: 0,
      allowPrivilegeEscalation: true,
      readOnlyRootFilesystem: true,
    },
  };
}

export function kernelTuningPatches(at: string): JsonPatch[] {
  return [
    JsonPatch.add(
      `${at}/resources`,
      typedResources({ cpu: '10m', memory: '16Mi' }, { cpu: '100m', memory: '32Mi' }),
    ),
  ];
}
