// Golden router tables: test/fixtures/router/<case>.in.yaml (routes in precedence order + requests)
// → <case>.out.yaml (which route each request hits, and the rewritten path when it changes).
// UPDATE_GOLDEN=1 rewrites the outputs and deletes stale ones; otherwise a stale or missing output fails.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { RouteTable } from '../../src/dataplane/router/route-table.ts';
import { request, route, snapshot, type RouteSpec } from './routes.ts';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/router');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

type RequestEntry = string | { request: string; headers?: Record<string, string> };
interface GoldenInput {
  routes: RouteSpec[];
  requests: RequestEntry[];
}

function run(input: GoldenInput): unknown[] {
  const table = RouteTable.build(snapshot(input.routes.map(route)));
  return input.requests.map((entry) => {
    const line = typeof entry === 'string' ? entry : entry.request;
    const headers = typeof entry === 'string' ? undefined : entry.headers;
    const req = request(line, headers);
    const hit = table.match(req);
    const out: Record<string, unknown> = { request: line };
    if (headers) out['headers'] = headers;
    out['route'] = hit?.id ?? null;
    if (hit) {
      const rewritten = hit.rewritePath(req.path);
      if (rewritten !== req.path) out['path'] = rewritten;
      if (hit.hostRewrite !== null) out['host'] = hit.hostRewrite;
    }
    return out;
  });
}

const files = readdirSync(DIR);
const cases = files
  .filter((f) => f.endsWith('.in.yaml'))
  .map((f) => f.slice(0, -'.in.yaml'.length))
  .sort();

test('there are golden cases', () => {
  assert.ok(cases.length >= 3);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const input = parse(readFileSync(join(DIR, `${name}.in.yaml`), 'utf8')) as GoldenInput;
    const actual = stringify(run(input));
    const outPath = join(DIR, `${name}.out.yaml`);
    if (UPDATE) writeFileSync(outPath, actual);
    assert.ok(existsSync(outPath), `${name}.out.yaml is missing; run with UPDATE_GOLDEN=1`);
    assert.fixture(
      readFileSync(outPath, 'utf8'),
      actual,
      `${name}.out.yaml is stale; run with UPDATE_GOLDEN=1 and review the diff`,
    );
  });
}

test('no stale outputs', () => {
  const stale = files.filter(
    (f) => f.endsWith('.out.yaml') && !cases.includes(f.slice(0, -'.out.yaml'.length)),
  );
  if (UPDATE) for (const f of stale) unlinkSync(join(DIR, f));
  else assert.equal(stale, [], 'outputs without an input; run with UPDATE_GOLDEN=1');
});

test.run();
