// Golden cases of the synthesizer: test/fixtures/synth/<case>.in.yaml holds a PoolInfra and, as
// an optional second YAML document, the synthesize() options. Shared by the golden and schema tests.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { PoolInfra } from '../../src/ir/infra.ts';
import type { SynthOptions } from '../../src/synth/index.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/synth/', import.meta.url));
export const IN_SUFFIX = '.in.yaml';
export const OUT_SUFFIX = '.out.yaml';

export interface SynthCase {
  name: string;
  infra: PoolInfra;
  options: SynthOptions;
}

export function caseNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith(IN_SUFFIX))
    .map((f) => f.slice(0, -IN_SUFFIX.length))
    .sort();
}

export function loadCase(name: string): SynthCase {
  const docs = parseAllDocuments(readFileSync(FIXTURE_DIR + name + IN_SUFFIX, 'utf8'));
  for (const d of docs)
    if (d.errors.length > 0) throw new Error(`${name}${IN_SUFFIX}: ${d.errors[0]!.message}`);
  if (docs.length < 1 || docs.length > 2)
    throw new Error(`${name}${IN_SUFFIX}: expected 1 or 2 YAML documents`);
  return {
    name,
    infra: docs[0]!.toJS() as PoolInfra,
    options: docs.length === 2 ? (docs[1]!.toJS() as SynthOptions) : {},
  };
}
