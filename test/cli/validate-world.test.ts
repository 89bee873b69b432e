// `bulkhead validate --world`: besides each object's schema and rules, the cross-object checks the
// cluster applies (pool not found, namespace not allowed to claim the pool), so GitOps CI catches
// what the API server's webhook or the operator would refuse.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProblem } from '../../src/api/validate.ts';
import { validateFiles } from '../../src/cli/validate.ts';

test('the examples are consistent as a whole', () => {
  const { checked, problems } = validateFiles(['examples'], false, true);
  assert.ok(checked >= 9);
  assert.equal(problems.map(formatProblem), []);
});

test('a route claiming a pool its namespace may not claim, and one naming no pool, are reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bh-world-'));
  try {
    const route = (ns: string, name: string, pool: string) =>
      [
        'apiVersion: bulkhead.dev/v1alpha1',
        'kind: RouteSplit',
        `metadata: {name: ${name}, namespace: ${ns}}`,
        'spec:',
        `  poolRef: {name: ${pool}, namespace: edge-storefront}`,
        `  hostnames: [${name}.example.com]`,
        '  rules: [{backends: [{name: web, port: 80}]}]',
      ].join('\n');
    writeFileSync(
      join(dir, 'extra.yaml'),
      [
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: intruder}',
        route('intruder', 'grab', 'storefront'),
        route('storefront', 'lost', 'nowhere'),
      ].join('\n---\n'),
    );
    const without = validateFiles(['examples', dir], false, false);
    assert.equal(without.problems, [], 'each object alone is valid');
    const { problems } = validateFiles(['examples', dir], false, true);
    const lines = problems.map(formatProblem);
    assert.is(lines.length, 2, lines.join('\n'));
    assert.match(
      lines[0]!,
      /^RouteSplit\/intruder\/grab: status\.conditions\[Accepted\]: not Accepted \(NotAllowedByPool\): /,
    );
    assert.is(
      lines[1],
      'RouteSplit/storefront/lost: status.conditions[Accepted]: not Accepted (PoolNotFound): IngressPool edge-storefront/nowhere not found',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
