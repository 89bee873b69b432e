// examples/argocd: the Application's sync options, and the GitOps Kustomize path built with
// kubectl's kustomize straight from the repository (its base is dist/, no release download): every
// object lands in its sync wave — CRDs, then the operator, namespaces and RBAC, then pools, then
// routes and policies.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { analyzeObject } from '../../src/api/validate.ts';
import { bagFromDocuments, compile } from '../../src/compiler/index.ts';
import { ensureK8sTools } from '../cluster/harness.ts';
import { REPO } from './cluster.ts';

const run = promisify(execFile);
const GITOPS = `${REPO}examples/argocd/gitops`;

test('the Application diffs and applies server-side, tolerates the CRDs arriving in the same sync, ignores the injected caBundle', async () => {
  const app = parse(await readFile(`${REPO}examples/argocd/application.yaml`, 'utf8'));
  assert.is(app.kind, 'Application');
  assert.match(app.metadata.annotations['argocd.argoproj.io/compare-options'], /ServerSideDiff=true/);
  assert.ok(app.spec.syncPolicy.syncOptions.includes('ServerSideApply=true'));
  assert.ok(app.spec.syncPolicy.syncOptions.includes('SkipDryRunOnMissingResource=true'));
  assert.equal(app.spec.ignoreDifferences[0].jqPathExpressions, ['.webhooks[].clientConfig.caBundle']);
});

test('kustomize build puts every object in its wave: CRDs < operator/namespaces < pools < routes/policies', async () => {
  {
    const text = await readFile(join(GITOPS, 'kustomization.yaml'), 'utf8');
    assert.match(text, /^ {2}- \.\.\/\.\.\/\.\.\/dist$/m, "the base is this repository's dist/");
    assert.not.match(text, /releases\/download/);
    const app = parse(await readFile(`${REPO}examples/argocd/application.yaml`, 'utf8'));
    assert.is(app.spec.source.path, 'examples/argocd/gitops');
    const { kubectl } = await ensureK8sTools();
    const { stdout } = await run(kubectl, ['kustomize', GITOPS], {
      timeout: 30_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const docs = parseAllDocuments(stdout).map((d) => d.toJS());
    const wave = (o: any) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave']);
    const waves = new Map<string, Set<number>>();
    for (const o of docs) {
      assert.ok(!Number.isNaN(wave(o)), `${o.kind}/${o.metadata.name} has no sync wave`);
      waves.set(o.kind, (waves.get(o.kind) ?? new Set()).add(wave(o)));
    }
    const only = (kind: string) => [...waves.get(kind)!];
    assert.equal(only('CustomResourceDefinition'), [-2]);
    assert.equal(only('Deployment'), [-1]);
    assert.equal(only('Namespace'), [-1]);
    assert.equal(only('RoleBinding'), [-1]);
    assert.equal(only('IngressPool'), [0]);
    assert.equal(only('RouteSplit'), [1]);
    assert.equal(only('RateLimitPolicy'), [1]);
    const shop = docs.find((o: any) => o.kind === 'Service' && o.metadata.name === 'shop-api');
    assert.is(wave(shop), 1);
    // kustomize's own YAML writer keeps the retry field `on` a string key
    const crd = docs.find((o: any) => o.metadata.name === 'ingresspools.bulkhead.dev');
    assert.ok(
      'on' in crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.retries.properties,
    );
  }
});

test('the GitOps example objects are valid and the route and policy are accepted offline', async () => {
  const docs = parseAllDocuments(await readFile(`${GITOPS}/storefront.yaml`, 'utf8')).map((d) => d.toJS());
  for (const d of docs.filter((x: any) => x.apiVersion.startsWith('bulkhead.dev/')))
    assert.equal(analyzeObject(d).problems, []);
  const { statuses } = compile(bagFromDocuments(docs));
  assert.equal(
    statuses.routeSplits['storefront/shop']!.parents[0]!.conditions.map((c) => `${c.type}=${c.status}`),
    ['Accepted=True', 'ResolvedRefs=True'],
  );
  assert.is(statuses.rateLimitPolicies['storefront/shop-api']!.conditions[0]!.status, 'True');
});

test.run();
