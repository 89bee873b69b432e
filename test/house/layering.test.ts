// Module layering the request-path issue asked for, checked on the import statements themselves:
// the demo and the data plane never import the CLI, and the API layer never imports the data plane
// (the regex engine it needs lives in src/regex).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g))
    out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** Files under `from` that import something under `forbidden` (both relative to src/). */
function violations(from: string, forbidden: string): string[] {
  const bad: string[] = [];
  for (const f of files(join(SRC, from))) {
    for (const spec of importsOf(f)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, join(f, '..', spec));
      if (target === forbidden || target.startsWith(forbidden + '/'))
        bad.push(`${relative(SRC, f)} -> ${spec}`);
    }
  }
  return bad;
}

test('the import scanner sees relative imports (so an empty result means something)', () => {
  const own = importsOf(join(SRC, 'cli', 'load.ts'));
  assert.ok(own.includes('../manifests/load.ts'), own.join(', '));
  assert.ok(violations('cli', 'manifests').length > 0);
});

test('demo/ and dataplane/ do not import cli/', () => {
  assert.equal(violations('demo', 'cli'), []);
  assert.equal(violations('dataplane', 'cli'), []);
});

test('api/ and compiler/ do not import dataplane/', () => {
  assert.equal(violations('api', 'dataplane'), []);
  assert.equal(violations('compiler', 'dataplane'), []);
});

test.run();
