// Property test: the compiler's output depends on the world, not on the order it was given.
// Shuffling the input bag, list order inside objects (hostnames, backends, header/cookie/query
// conditions, Service ports, EndpointSlice endpoints and addresses), EndpointSlice order and the
// key order of every object gives byte-identical output and the same version hashes.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bagFromDocuments, compile } from '../../src/compiler/index.ts';
import { loadDocuments } from '../../src/manifests/load.ts';

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(list: T[], rand: () => number): T[] {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Lists whose order carries no meaning in the API (rules and matches do: their order breaks ties). */
const UNORDERED = new Set([
  'hostnames',
  'backends',
  'headers',
  'cookies',
  'queryParams',
  'ports',
  'endpoints',
  'addresses',
  'tolerations',
  'key_',
]);

function scramble(value: any, rand: () => number, parentKey = ''): any {
  if (Array.isArray(value)) {
    const items = value.map((v) => scramble(v, rand));
    return UNORDERED.has(parentKey) ? shuffle(items, rand) : items;
  }
  if (value === null || typeof value !== 'object') return value;
  const out: any = {};
  for (const k of shuffle(Object.keys(value), rand)) out[k] = scramble(value[k], rand, k);
  return out;
}

function world(): any[] {
  const docs = loadDocuments(['examples']).map((d) => d.doc);
  // endpoints for every example Service, spread over two slices each, some not ready
  const services = docs.filter((d) => d.kind === 'Service');
  services.forEach((svc, i) => {
    for (const half of [0, 1]) {
      docs.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${svc.metadata.name}-${half}`,
          namespace: svc.metadata.namespace,
          labels: { 'kubernetes.io/service-name': svc.metadata.name },
        },
        addressType: 'IPv4',
        ports: svc.spec.ports.map((p: any) => ({ name: p.name, port: p.targetPort, protocol: 'TCP' })),
        endpoints: Array.from({ length: 6 }, (_, k) => ({
          addresses: [`198.18.${i}.${half * 10 + k + 1}`],
          conditions: { ready: k !== 3 },
          zone: `zone-${k % 2}`,
        })),
      });
    }
  });
  return docs;
}

test('shuffled inputs compile to identical bytes and versions', () => {
  const docs = world();
  const baseline = compile(bagFromDocuments(docs));
  const bytes = JSON.stringify(baseline);
  const versions = Object.values(baseline.snapshots).map((s) => s.version);
  assert.is(versions.length, 3);
  // the world is non-trivial: endpoints made it in, not-ready ones did not
  const shop = baseline.snapshots['edge-storefront/storefront']!;
  assert.ok(
    shop.clusters.every((c) => c.endpoints.length === 10),
    'two slices × five ready endpoints per cluster',
  );
  for (let seed = 1; seed <= 25; seed++) {
    const rand = prng(seed);
    const shuffled = shuffle(docs, rand).map((d) => scramble(d, rand));
    const result = compile(bagFromDocuments(shuffled));
    assert.equal(
      Object.values(result.snapshots).map((s) => s.version),
      versions,
      `seed ${seed}: versions differ`,
    );
    assert.ok(JSON.stringify(result) === bytes, `seed ${seed}: output bytes differ`);
  }
});

test('a real change changes the version of that pool only', () => {
  const docs = world();
  const before = compile(bagFromDocuments(docs)).snapshots;
  const edited = structuredClone(docs);
  const shop = edited.find((d: any) => d.kind === 'RouteSplit' && d.metadata.name === 'shop');
  shop.spec.rules[1].backends[0].weight = 80;
  shop.spec.rules[1].backends[1].weight = 20;
  const after = compile(bagFromDocuments(edited)).snapshots;
  assert.is.not(after['edge-storefront/storefront']!.version, before['edge-storefront/storefront']!.version);
  assert.is(after['edge-payments/payments']!.version, before['edge-payments/payments']!.version);
  assert.is(after['edge-realtime/realtime']!.version, before['edge-realtime/realtime']!.version);
});

test('the version is the hash of the canonical snapshot content', async () => {
  const { canonicalJson, contentHash } = await import('../../src/compiler/canonical.ts');
  for (const snap of Object.values(compile(bagFromDocuments(world())).snapshots)) {
    const { version, ...rest } = snap;
    assert.is(version, contentHash(rest));
    // the compiler builds IR keys in sorted order so that native JSON.stringify is canonical:
    // a key added out of order fails here
    assert.ok(
      JSON.stringify(rest) === canonicalJson(rest),
      'snapshot keys are not in canonical (sorted) order',
    );
  }
});

test.run();
