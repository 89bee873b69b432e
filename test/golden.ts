// Golden-file harness shared by the compiler, synth and router tests: `<case>.in.yaml` → `<case>.out.yaml`.
// UPDATE_GOLDEN=1 rewrites outputs and deletes outputs whose input is gone; otherwise a missing or
// stale output fails the test, so a review of the fixture diff is the review of the behaviour change.

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

export const UPDATE = process.env.UPDATE_GOLDEN === '1';

export interface GoldenCase {
  name: string;
  inputDocs: any[];
  outPath: string;
}

export function goldenCases(dir: string): GoldenCase[] {
  const files = readdirSync(dir);
  const cases = files.filter((f) => f.endsWith('.in.yaml')).sort();
  if (UPDATE) {
    for (const f of files)
      if (f.endsWith('.out.yaml') && !files.includes(f.replace('.out.yaml', '.in.yaml')))
        rmSync(join(dir, f));
  }
  return cases.map((f) => ({
    name: f.replace('.in.yaml', ''),
    inputDocs: parseAllDocuments(readFileSync(join(dir, f), 'utf8'))
      .map((d) => d.toJS())
      .filter((d) => d !== null && d !== undefined),
    outPath: join(dir, f.replace('.in.yaml', '.out.yaml')),
  }));
}

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false, sortMapEntries: false });
}

/** Compare (or with UPDATE_GOLDEN=1 write) the expected output; returns an error message or null. */
export function checkGolden(c: GoldenCase, actual: string): string | null {
  if (UPDATE) {
    writeFileSync(c.outPath, actual);
    return null;
  }
  if (!existsSync(c.outPath)) return `${c.outPath} is missing: run UPDATE_GOLDEN=1 npm run test:unit`;
  const expected = readFileSync(c.outPath, 'utf8');
  if (expected === actual) return null;
  const a = actual.split('\n');
  const e = expected.split('\n');
  const i = a.findIndex((line, k) => line !== e[k]);
  return `${c.outPath} is stale (first difference at line ${i + 1}:\n  expected: ${e[i]}\n  actual:   ${a[i]}); review and run UPDATE_GOLDEN=1`;
}
