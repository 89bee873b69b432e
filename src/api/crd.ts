// CRD generation: turns the TypeBox schemas into apiextensions.k8s.io/v1 CustomResourceDefinitions
// with structural OpenAPI v3 schemas the API server accepts.

import { stringify } from 'yaml';
import { API_VERSION, GROUP, KINDS, VERSION, type KindInfo } from './kinds.ts';

/**
 * Rewrite a TypeBox/JSON schema into a structural CRD schema: Records become
 * `additionalProperties`, `additionalProperties: false` is dropped (the API server prunes and,
 * with kubectl's strict field validation, rejects unknown fields itself), and our own `x-bulkhead-*`
 * annotations are removed. Symbols (TypeBox kinds, CEL twins) vanish with the JSON round trip.
 */
export function toStructural(schema: unknown): any {
  const plain = JSON.parse(JSON.stringify(schema));
  return clean(plain);
}

function clean(node: any): any {
  if (Array.isArray(node)) return node.map(clean);
  if (node === null || typeof node !== 'object') return node;
  const out: any = {};
  for (const key of Object.keys(node)) {
    if (key.startsWith('x-bulkhead-')) continue;
    if (key === 'additionalProperties' && node[key] === false) continue;
    if (key === 'patternProperties') {
      const values = Object.values(node[key]);
      out.additionalProperties = clean(values[0]);
      continue;
    }
    if (key === 'properties' || key === 'default' || key === 'enum' || key === 'required') {
      out[key] = key === 'properties' ? mapValues(node[key], clean) : node[key];
      continue;
    }
    out[key] = clean(node[key]);
  }
  if (out.type === 'object' && out.properties && Object.keys(out.properties).length === 0)
    delete out.properties;
  return out;
}

function mapValues(obj: Record<string, unknown>, fn: (v: unknown) => unknown) {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) out[k] = fn(obj[k]);
  return out;
}

export function crdFor(info: KindInfo): any {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${info.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'bulkhead' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: info.shortNames,
        categories: ['bulkhead'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: info.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                // the API server allows constraints on metadata.name only, and reports them on that field
                metadata: info.maxNameLength
                  ? {
                      type: 'object',
                      properties: {
                        name: {
                          type: 'string',
                          maxLength: info.maxNameLength,
                          description: `at most ${info.maxNameLength} characters: the pool's Services are named after it`,
                        },
                      },
                    }
                  : { type: 'object' },
                spec: {
                  description: `desired state of the ${info.kind}`,
                  ...toStructural(info.spec),
                },
                status: {
                  description: 'observed state, written by the operator',
                  ...toStructural(info.status),
                },
              },
            },
          },
        },
      ],
    },
  };
}

export function allCrds(): any[] {
  return KINDS.map(crdFor);
}

/**
 * YAML for kubectl and Argo CD. Both parse YAML 1.1, where an unquoted `on:` key is the boolean
 * true (our `retries.on` would arrive as a property named "true"); writing YAML 1.1 quotes it.
 */
export function crdYaml(crd: unknown): string {
  return stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' });
}

export { API_VERSION };
