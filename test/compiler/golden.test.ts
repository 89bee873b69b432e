import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bagFromDocuments, compile } from '../../src/compiler/index.ts';
import { checkGolden, goldenCases, toYaml } from '../golden.ts';

const DIR = new URL('../fixtures/compiler/', import.meta.url).pathname;
const cases = goldenCases(DIR);

test('at least 25 compiler golden cases', () => {
  assert.ok(cases.length >= 25, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`compiler golden: ${c.name}`, () => {
    const result = compile(bagFromDocuments(c.inputDocs));
    // the bootstrap snapshot inside infra repeats the snapshot: keep the golden files readable
    const infra = Object.fromEntries(
      Object.entries(result.infra).map(([k, v]) => [
        k,
        { ...v, bootstrapSnapshot: `<${v.bootstrapSnapshot.length} bytes>` },
      ]),
    );
    const err = checkGolden(c, toYaml({ statuses: result.statuses, snapshots: result.snapshots, infra }));
    assert.is(err, null, err ?? '');
  });
}

test.run();
