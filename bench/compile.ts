// Compile-time benchmark: `node --import tsx bench/compile.ts [--runs N]`.
// Scenario A: 1,000 pools × 20 routes × 10 endpoints (one Service + EndpointSlice per route).
// Scenario B: one pool with 5,000 routes. Reports the median of N runs after one warm-up.

import { performance } from 'node:perf_hooks';
import { compile, type ResourceBag } from '../src/compiler/index.ts';

function world(pools: number, routesPerPool: number, endpoints: number): ResourceBag {
  const bag: ResourceBag = {
    ingressPools: [],
    routeSplits: [],
    rateLimitPolicies: [],
    services: [],
    endpointSlices: [],
    namespaces: [],
  };
  for (let p = 0; p < pools; p++) {
    const ns = `team-${p}`;
    bag.namespaces.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'product-line': `pl-${p}` } },
    });
    bag.ingressPools.push({
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'IngressPool',
      metadata: { name: `pool-${p}`, namespace: ns, generation: 1 },
      spec: { productLine: `pl-${p}` } as any,
    });
    for (let r = 0; r < routesPerPool; r++) {
      const svc = `svc-${r}`;
      bag.services.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: svc, namespace: ns },
        spec: { ports: [{ name: 'http', port: 8080 }] },
      });
      bag.endpointSlices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${svc}-a`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: Array.from({ length: endpoints }, (_, e) => ({
          addresses: [`10.${p % 250}.${r % 250}.${e + 1}`],
          conditions: { ready: true },
        })),
      });
      bag.routeSplits.push({
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'RouteSplit',
        metadata: {
          name: `route-${r}`,
          namespace: ns,
          generation: 1,
          creationTimestamp: '2026-01-01T00:00:00Z',
        },
        spec: {
          poolRef: { name: `pool-${p}` },
          hostnames: [`r${r}.pl-${p}.example.com`],
          rules: [
            {
              name: 'canary',
              matches: [
                {
                  path: { type: 'PathPrefix', value: `/api/${r}` },
                  headers: [{ name: 'x-canary', type: 'Exact', value: 'true' }],
                },
              ],
              backends: [{ name: svc, port: 8080 }],
            },
            {
              name: 'main',
              matches: [{ path: { type: 'PathPrefix', value: `/api/${r}` } }],
              backends: [
                { name: svc, port: 8080, weight: 90 },
                { name: svc, port: 8080, weight: 10 },
              ],
            },
          ],
        } as any,
      });
    }
  }
  return bag;
}

function measure(name: string, bag: ResourceBag, runs: number) {
  compile(bag); // warm-up (JIT, schema compilation)
  const times: number[] = [];
  let snapshots = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = compile(bag);
    times.push(performance.now() - t0);
    snapshots = Object.keys(r.snapshots).length;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `| ${name} | ${bag.routeSplits.length} | ${snapshots} | ${median.toFixed(0)} ms | ${times[0]!.toFixed(0)} ms | ${times[times.length - 1]!.toFixed(0)} ms |`,
  );
  return median;
}

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
console.log(`node ${process.version}, ${runs} runs after one warm-up`);
console.log('| scenario | routes | snapshots | median | min | max |');
console.log('|---|---|---|---|---|---|');
measure('1,000 pools × 20 routes × 10 endpoints', world(1000, 20, 10), runs);
measure('1 pool × 5,000 routes × 10 endpoints', world(1, 5000, 10), runs);
