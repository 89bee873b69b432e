// Golden tests: every test/fixtures/synth/<case>.in.yaml must synthesize to exactly
// <case>.out.yaml. `UPDATE_GOLDEN=1` rewrites the outputs and deletes outputs whose input is gone;
// without it, a missing or stale output fails. Review the diff of the .out.yaml files as the
// review of the behaviour change.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { manifestsToYaml, synthesize } from '../../src/synth/index.ts';
import { FIXTURE_DIR, IN_SUFFIX, OUT_SUFFIX, caseNames, loadCase } from './cases.ts';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const names = caseNames();

test('golden: at least the required cases exist', () => {
  const required = [
    'default-deployment',
    'autoscaling',
    'daemonset-hostnetwork',
    'nodeport',
    'kernel-tuning',
    'explicit-workers',
    'scheduling',
    'control-plane',
    'offline-no-uid',
  ];
  for (const r of required) assert.ok(names.includes(r), `missing golden case ${r}${IN_SUFFIX}`);
});

test('golden: no stale outputs', () => {
  const stale = readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith(OUT_SUFFIX))
    .filter((f) => !existsSync(FIXTURE_DIR + f.slice(0, -OUT_SUFFIX.length) + IN_SUFFIX));
  if (UPDATE) for (const f of stale) unlinkSync(FIXTURE_DIR + f);
  else assert.equal(stale, [], `stale golden outputs (run with UPDATE_GOLDEN=1): ${stale.join(', ')}`);
});

for (const name of names) {
  test(`golden: ${name}`, () => {
    const c = loadCase(name);
    const actual = manifestsToYaml(synthesize(c.infra, c.options));
    const outPath = FIXTURE_DIR + name + OUT_SUFFIX;
    if (UPDATE) {
      writeFileSync(outPath, actual);
      return;
    }
    assert.ok(existsSync(outPath), `missing ${name}${OUT_SUFFIX} (run with UPDATE_GOLDEN=1)`);
    assert.fixture(actual, readFileSync(outPath, 'utf8'));
  });
}

test.run();
