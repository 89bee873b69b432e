// Unknown-field check for synthesized objects. kubernetes-models' validators check types,
// formats and required fields but accept any extra key, so a misspelt field (`readinesProbe`)
// would pass them and be dropped or rejected only by the API server. The typed models of
// @kubernetes/client-node list every field of every Kubernetes type; walking an object along
// them finds keys Kubernetes does not know.

import * as k8s from '@kubernetes/client-node';

type AttributeMap = { name: string; baseName: string; type: string }[];
type ModelClass = { getAttributeTypeMap(): AttributeMap };

const LEAF = new Set([
  'string',
  'number',
  'boolean',
  'Date',
  'any',
  'object',
  'IntOrString',
  'RequestQuantity',
]);
const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

export const ROOT_TYPES: Record<string, string> = {
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/ConfigMap': 'V1ConfigMap',
  'v1/Service': 'V1Service',
  'apps/v1/Deployment': 'V1Deployment',
  'apps/v1/DaemonSet': 'V1DaemonSet',
  'autoscaling/v2/HorizontalPodAutoscaler': 'V2HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
};

function model(type: string): ModelClass | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[type];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate
    ? (candidate as ModelClass)
    : undefined;
}

/** JSON-pointer-like paths of keys in `value` that the Kubernetes type `type` does not define. */
export function unknownFields(value: unknown, type: string, path = ''): string[] {
  if (value === null || value === undefined || LEAF.has(type)) return [];
  const arr = ARRAY.exec(type);
  if (arr)
    return Array.isArray(value)
      ? value.flatMap((v, i) => unknownFields(v, arr[1]!, `${path}/${i}`))
      : [`${path} (not an array)`];
  const map = MAP.exec(type);
  if (map)
    return Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}/${k}`));
  const cls = model(type);
  if (!cls) throw new Error(`no client-node model for type ${type} at ${path || '/'}`);
  const fields = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value as object)) {
    const t = fields.get(key);
    if (t === undefined) problems.push(`${path}/${key}`);
    else problems.push(...unknownFields(v, t, `${path}/${key}`));
  }
  return problems;
}
