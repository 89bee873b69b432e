import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatProblem, pointerToPath, validateObject } from '../../src/api/validate.ts';
import { validateFiles } from '../../src/cli/validate.ts';
import { INVALID_CASES } from './invalid-cases.ts';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

test('examples/ are valid', () => {
  const { checked, problems } = validateFiles(['examples']);
  assert.equal(problems.map(formatProblem), []);
  assert.ok(checked >= 9, `expected the examples to hold at least 9 Bulkhead objects, got ${checked}`);
});

test('examples/ with subdirectories (-R, the Argo CD GitOps copy) are valid too', () => {
  const { checked, problems } = validateFiles(['examples'], true);
  assert.equal(problems.map(formatProblem), []);
  assert.ok(checked > 9);
});

test('bulkhead validate -f examples/ exits 0', () => {
  const r = spawnSync(process.execPath, [...CLI, 'validate', '-f', 'examples/'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test(`at least 15 distinct invalid objects (${INVALID_CASES.length})`, () => {
  assert.ok(INVALID_CASES.length >= 15);
});

for (const c of INVALID_CASES) {
  test(`rejects: ${c.title}`, () => {
    const problems = validateObject(c.object);
    const hit = problems.find((p) => p.path === c.path);
    assert.ok(hit, `expected a problem at ${c.path}, got ${JSON.stringify(problems.map(formatProblem))}`);
    assert.match(hit!.message, c.message);
    assert.is(hit!.kind, c.object.kind);
    assert.is(hit!.name, c.object.metadata.name);
  });
}

test('the CLI prints one line per problem in the contract format and exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bh-validate-'));
  const docs = INVALID_CASES.slice(0, 5)
    .map((c) => stringify(c.object))
    .join('---\n');
  writeFileSync(
    join(dir, 'bad.yaml'),
    docs + '---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: ignored }\n',
  );
  const r = spawnSync(process.execPath, [...CLI, 'validate', '-f', dir], { encoding: 'utf8' });
  assert.is(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length >= 5);
  for (const line of lines)
    assert.match(line, /^(IngressPool|RouteSplit|RateLimitPolicy)\/team-a\/[a-z-]+: [a-zA-Z.[\]0-9]+: .+/);
  assert.ok(
    lines.includes('RouteSplit/team-a/bad-route: spec.rules[0].backends[0].weight: must be >= 0 (got -1)'),
    r.stdout,
  );
});

test('JSON pointers become dot paths with indexes', () => {
  assert.is(pointerToPath('/rules/0/backends/1/weight'), 'spec.rules[0].backends[1].weight');
  assert.is(pointerToPath(''), 'spec');
});

test('valid objects with only required fields pass', () => {
  const problems = validateObject({
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'RouteSplit',
    metadata: { name: 'r', namespace: 'n' },
    spec: { poolRef: { name: 'p' }, rules: [{ backends: [{ name: 's', port: 80 }] }] },
  });
  assert.equal(problems, []);
});

test('non-Bulkhead documents are ignored and a missing path is an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bh-validate-'));
  writeFileSync(join(dir, 'other.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: { name: s }\n');
  const { checked, problems } = validateFiles([dir]);
  assert.is(checked, 0);
  assert.equal(problems, []);
  assert.throws(() =>
    execFileSync(process.execPath, [...CLI, 'validate', '-f', join(dir, 'missing.yaml')], { stdio: 'pipe' }),
  );
});

test.run();
