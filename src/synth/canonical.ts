// Canonical form of the synthesized objects: fixed key order and a fixed apply order, so that
// the same PoolInfra always yields byte-identical JSON/YAML (golden files, server-side apply
// diffs, "skip if unchanged" in the controller). cdk8s sorts keys only when CDK8S_DISABLE_SORT is
// unset and applies JSON patches after sorting, so the order is imposed here once more.

import { canonicalize } from '../compiler/canonical.ts';

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
      blockOwnerDeletion?: boolean;
    }[];
  };
  [k: string]: unknown;
};

/** Apply order: what a later object refers to exists first (ServiceAccount before pods...). */
export const APPLY_ORDER = [
  'ServiceAccount',
  'ConfigMap',
  'Service',
  'Deployment',
  'DaemonSet',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
] as const;

/** apiVersion, kind, metadata first (as kubectl prints them), every other key sorted. */
export function canonicalObject(obj: Record<string, unknown>): KubeObject {
  const sorted = canonicalize(obj);
  const out: Record<string, unknown> = {
    apiVersion: sorted.apiVersion,
    kind: sorted.kind,
    metadata: sorted.metadata,
  };
  for (const key of Object.keys(sorted)) if (!(key in out)) out[key] = sorted[key];
  return out as KubeObject;
}

/** Stable sort by apply order, then by name (several Services share a kind). */
export function inApplyOrder(objects: KubeObject[]): KubeObject[] {
  const rank = (kind: string): number => {
    const i = (APPLY_ORDER as readonly string[]).indexOf(kind);
    return i === -1 ? APPLY_ORDER.length : i;
  };
  return [...objects].sort(
    (a, b) =>
      rank(a.kind) - rank(b.kind) ||
      (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0),
  );
}
