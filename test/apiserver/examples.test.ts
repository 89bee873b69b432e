// examples/ and `bulkhead render -f examples/` against a real kube-apiserver with the CRDs.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { analyzeObject, formatProblem } from '../../src/api/validate.ts';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import { installCrds, must, REPO } from './cluster.ts';

const run = promisify(execFile);
let cluster: TestCluster;

// Setup is a test, not a before hook: uvu does not count a failing hook as a failure.
test('setup: a cluster with the CRDs', async () => {
  cluster = await startTestCluster();
  await installCrds(cluster);
});

test.after(async () => {
  await cluster?.stop();
});

test('kubectl apply -f examples/ succeeds (twice: the first pass creates the namespaces)', async () => {
  // Top-level files only, as a user runs it; the first pass may fail on objects whose namespace
  // is created later in the same pass, so its result is not asserted.
  await cluster.kubectl(['apply', '-f', `${REPO}examples/`]);
  const second = await must(
    cluster.kubectl(['apply', '-f', `${REPO}examples/`]),
    'second kubectl apply -f examples/',
  );
  assert.not.match(second.stdout, /created/, 'everything should exist after the first pass');
  const got = await must(cluster.kubectl(['get', 'bulkhead', '-A', '-o', 'name']), 'get bulkhead');
  const names = got.stdout.trim().split('\n').sort();
  assert.ok(names.includes('ingresspool.bulkhead.dev/storefront'), got.stdout);
  assert.ok(
    names.some((n) => n.startsWith('routesplit.bulkhead.dev/')),
    got.stdout,
  );
  assert.ok(
    names.some((n) => n.startsWith('ratelimitpolicy.bulkhead.dev/')),
    got.stdout,
  );
});

test('RouteSplit retries.on survives kubectl apply of the example (YAML 1.1 reads `on` as true)', async () => {
  const r = await must(
    cluster.kubectl(['get', 'rsplit', 'shop', '-n', 'storefront', '-o', 'json']),
    'get rsplit shop',
  );
  const withRetries = JSON.parse(r.stdout).spec.rules.filter((x: any) => x.retries);
  assert.ok(withRetries.length > 0, 'the storefront example sets retries on a rule');
  for (const rule of withRetries)
    assert.equal(Object.keys(rule.retries).sort(), ['attempts', 'on'], JSON.stringify(rule.retries));
});

test('every Bulkhead object read back from the API server (with its defaults) passes the offline validator', async () => {
  // The operator compiles what the API server stores: server-side defaults must be valid offline.
  const r = await must(cluster.kubectl(['get', 'bulkhead', '-A', '-o', 'json']), 'get bulkhead -o json');
  const items = JSON.parse(r.stdout).items;
  assert.ok(items.length >= 6, `only ${items.length} objects`);
  const problems = items.flatMap((o: any) => analyzeObject(o).problems.map(formatProblem));
  assert.equal(problems, []);
});

test('bulkhead render -f examples/ passes kubectl apply --dry-run=server', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', `${REPO}src/cli/main.ts`, 'render', '-f', `${REPO}examples/`],
    {
      cwd: REPO,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    },
  );
  const docs = parseAllDocuments(stdout).map((d) => d.toJS());
  assert.ok(docs.length >= 10, `render produced ${docs.length} manifests`);
  const kinds = new Set(docs.map((d: any) => d.kind));
  for (const k of ['Deployment', 'Service', 'ConfigMap', 'ServiceAccount'])
    assert.ok(kinds.has(k), `no ${k} rendered`);
  const r = await must(
    cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], stdout),
    'apply --dry-run=server of the rendered manifests',
  );
  assert.is(r.stdout.trim().split('\n').length, docs.length, r.stdout);
  assert.ok(
    r.stdout.split('\n').every((l) => l === '' || l.endsWith('(server dry run)')),
    r.stdout,
  );
});

test.run();
