// Helpers for the operator's cluster tests: CRDs and examples applied through kubectl (as JSON, see
// below), EndpointSlices on 198.18.0.0/15, polling, and the API server's own write counters.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import pino from 'pino';
import type { TestCluster } from '../cluster/harness.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const silentLogger = () => pino({ level: 'silent' });

// kubectl reads YAML 1.1, where an unquoted `on:` key (retries.on in the CRDs and examples) is the
// boolean true, so `kubectl apply -f crds/` would rename the field. The files are parsed here as
// YAML 1.2 (as the rest of Bulkhead does) and handed to kubectl as JSON.
export function yamlDocs(file: string): any[] {
  return YAML.parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJSON())
    .filter((d) => d && typeof d === 'object');
}

export function crdDocs(): any[] {
  const dir = join(root, 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => yamlDocs(join(dir, f)));
}

/** examples/*.yaml in name order (00-namespaces first) */
export function exampleDocs(only?: string[]): any[] {
  const dir = join(root, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && (!only || only.includes(f)))
    .sort()
    .flatMap((f) => yamlDocs(join(dir, f)));
}

export async function kubectlOk(cluster: TestCluster, args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function applyDocs(cluster: TestCluster, docs: any[]): Promise<void> {
  await kubectlOk(
    cluster,
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }),
  );
}

export async function installCrds(cluster: TestCluster): Promise<void> {
  await applyDocs(cluster, crdDocs());
  await kubectlOk(cluster, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
}

/** One ready EndpointSlice per Service, two addresses each, in the benchmark range 198.18.0.0/15. */
export function endpointSlicesFor(services: any[]): any[] {
  return services.map((svc, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${svc.metadata.name}-test`,
      namespace: svc.metadata.namespace,
      labels: { 'kubernetes.io/service-name': svc.metadata.name },
    },
    addressType: 'IPv4',
    endpoints: [1, 2].map((j) => ({ addresses: [`198.18.${i + 1}.${j}`], conditions: { ready: true } })),
    ports: (svc.spec.ports ?? []).map((p: any) => ({
      name: p.name,
      port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
      protocol: 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    })),
  }));
}

export async function getJson(cluster: TestCluster, args: string[]): Promise<any> {
  return JSON.parse(await kubectlOk(cluster, ['get', ...args, '-o', 'json']));
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const OUR_RESOURCES = new Set([
  'ingresspools',
  'routesplits',
  'ratelimitpolicies',
  'serviceaccounts',
  'configmaps',
  'services',
  'deployments',
  'daemonsets',
  'horizontalpodautoscalers',
  'poddisruptionbudgets',
]);

/** Write requests the API server itself counted (apiserver_request_total) for the operator's resources. */
export async function apiserverWrites(cluster: TestCluster): Promise<number> {
  const text = await kubectlOk(cluster, ['get', '--raw', '/metrics']);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '';
    const resource = /resource="([a-z]+)"/.exec(line)?.[1] ?? '';
    if (!['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE'].includes(verb) || !OUR_RESOURCES.has(resource)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** kind/namespace/name → resourceVersion of every object the operator owns or reports on */
export async function resourceVersions(cluster: TestCluster): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const owned = await getJson(cluster, [
    'serviceaccounts,configmaps,services,deployments,daemonsets,horizontalpodautoscalers,poddisruptionbudgets',
    '-A',
    '-l',
    'app.kubernetes.io/managed-by=bulkhead',
  ]);
  const crs = await getJson(cluster, ['ingresspools,routesplits,ratelimitpolicies', '-A']);
  for (const o of [...owned.items, ...crs.items]) {
    out.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o.metadata.resourceVersion);
  }
  return out;
}

const isZero = (v: unknown) =>
  v === false ||
  v === 0 ||
  v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (!!v && typeof v === 'object' && Object.keys(v).length === 0);

/**
 * Is every field of `want` present and equal in `got` (arrays element by element)? Returns the first
 * difference. A zero value (false, 0, '', [], {}) may be missing: Go's omitempty drops it on the way back.
 */
export function subsetDiff(want: unknown, got: unknown, path = ''): string | undefined {
  if (got === undefined && isZero(want)) return undefined;
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length)
      return `${path}: expected array of ${want.length}, got ${JSON.stringify(got)}`;
    for (let i = 0; i < want.length; i++) {
      const d = subsetDiff(want[i], got[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object') return `${path}: expected object, got ${JSON.stringify(got)}`;
    for (const [k, v] of Object.entries(want)) {
      const d = subsetDiff(v, (got as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return want === got ? undefined : `${path}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
}
