import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_REFERENCE, CRD_DIR, expectedCrdFiles } from '../../scripts/gen-crds.ts';
import { apiReferenceMarkdown } from '../../src/api/reference.ts';
import { allCrds } from '../../src/api/crd.ts';

test('crds/ is current (regenerate with `npm run gen`)', () => {
  const expected = expectedCrdFiles();
  assert.equal(readdirSync(CRD_DIR).sort(), [...expected.keys()].sort());
  for (const [name, text] of expected) {
    assert.ok(readFileSync(join(CRD_DIR, name), 'utf8') === text, `crds/${name} is stale: run npm run gen`);
  }
});

test('docs/api-reference.md is current (regenerate with `npm run gen`)', () => {
  assert.ok(
    readFileSync(API_REFERENCE, 'utf8') === apiReferenceMarkdown(),
    'docs/api-reference.md is stale: run npm run gen',
  );
  // every field name of the contract appears, e.g. a deep one
  assert.ok(apiReferenceMarkdown().includes('`spec.connections.upstream.maxIdlePerEndpoint`'));
});

/** Structural schema rules the API server enforces, checked offline so a bad change fails fast. */
function checkStructural(node: any, path: string, problems: string[]) {
  if (!node || typeof node !== 'object') return;
  if (node.properties && node.additionalProperties !== undefined)
    problems.push(`${path}: properties and additionalProperties together`);
  if (node.anyOf) {
    if (!node['x-kubernetes-int-or-string']) problems.push(`${path}: anyOf outside int-or-string`);
  } else if (!node.type && !node['x-kubernetes-preserve-unknown-fields']) problems.push(`${path}: no type`);
  for (const [k, v] of Object.entries(node.properties ?? {})) checkStructural(v, `${path}.${k}`, problems);
  if (node.items) checkStructural(node.items, `${path}[]`, problems);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    checkStructural(node.additionalProperties, `${path}{}`, problems);
  for (const key of Object.keys(node)) {
    if (
      key.startsWith('x-') &&
      ![
        'x-kubernetes-validations',
        'x-kubernetes-int-or-string',
        'x-kubernetes-list-type',
        'x-kubernetes-list-map-keys',
        'x-kubernetes-preserve-unknown-fields',
      ].includes(key)
    ) {
      problems.push(`${path}: unknown extension ${key}`);
    }
  }
}

test('CRD schemas are structural', () => {
  for (const crd of allCrds()) {
    const problems: string[] = [];
    checkStructural(crd.spec.versions[0].schema.openAPIV3Schema, crd.metadata.name, problems);
    assert.equal(problems, []);
  }
});

test('CRDs have status subresource, printer columns, short names and the bulkhead category', () => {
  const byKind = new Map(allCrds().map((c) => [c.spec.names.kind, c]));
  const cols = (k: string) => byKind.get(k).spec.versions[0].additionalPrinterColumns.map((c: any) => c.name);
  assert.equal(
    cols('IngressPool').filter((c: string) => !['Routes', 'Config'].includes(c)),
    ['Product Line', 'Ready', 'Programmed', 'Address', 'Age'],
  );
  assert.equal(
    cols('RouteSplit').filter((c: string) => c !== 'Resolved'),
    ['Pool', 'Hostnames', 'Accepted', 'Reason', 'Age'],
  );
  assert.equal(cols('RateLimitPolicy'), ['Target Kind', 'Target', 'Mode', 'Accepted', 'Reason', 'Age']);
  for (const crd of byKind.values()) {
    assert.equal(crd.spec.versions[0].subresources, { status: {} });
    assert.ok(crd.spec.names.categories.includes('bulkhead'));
    assert.ok(crd.spec.names.shortNames.length > 0);
  }
});

test('CEL rules carry messages and field paths', () => {
  const text = JSON.stringify(allCrds());
  assert.ok(text.includes('self.minReplicas <= self.maxReplicas'));
  assert.ok(text.includes('"fieldPath":".minReplicas"'));
});

test.run();
