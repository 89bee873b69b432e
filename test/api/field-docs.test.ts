// `kubectl explain <kind>.spec...` answers for every field: each property of every generated CRD
// schema has a description, and every path in src/api/field-docs.ts names a real field.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allCrds } from '../../src/api/crd.ts';
import { UNDOCUMENTED_PATHS as POOL } from '../../src/api/ingresspool.ts';
import { UNDOCUMENTED_PATHS as ROUTE } from '../../src/api/routesplit.ts';
import { UNDOCUMENTED_PATHS as POLICY } from '../../src/api/ratelimitpolicy.ts';

function undescribed(node: any, path: string, out: string[]): string[] {
  for (const [k, v] of Object.entries<any>(node?.properties ?? {})) {
    const p = `${path}.${k}`;
    if (!v.description && !/^\w+\.(apiVersion|kind|metadata)$/.test(p)) out.push(p);
    undescribed(v, p, out);
  }
  if (node?.items) undescribed(node.items, `${path}[]`, out);
  if (node?.additionalProperties && typeof node.additionalProperties === 'object')
    undescribed(node.additionalProperties, `${path}{}`, out);
  return out;
}

test('every field of every CRD has a description (kubectl explain)', () => {
  for (const crd of allCrds()) {
    const schema = crd.spec.versions[0].schema.openAPIV3Schema;
    assert.equal(undescribed(schema, crd.spec.names.kind, []), [], crd.spec.names.kind);
  }
});

test('every documented path names a field', () => {
  assert.equal([...POOL, ...ROUTE, ...POLICY], []);
});

test('RouteSplit status documents its aggregated conditions', () => {
  const rs = allCrds().find((c) => c.spec.names.kind === 'RouteSplit');
  const status = rs.spec.versions[0].schema.openAPIV3Schema.properties.status;
  assert.match(status.properties.conditions.description, /kubectl wait --for=condition=Accepted/);
  assert.match(status.properties.conditions.description, /every parent/);
});

test.run();
