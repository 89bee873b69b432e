// h2spec (github.com/summerwind/h2spec, built by scripts/setup-conformance.sh) against the data
// port's prior-knowledge h2c. Every case runs; the test asserts how many pass and that the failing
// cases are exactly the documented ones (docs/CONFORMANCE.md explains each with its RFC section).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeServer, cluster, httpBackend, route, snapshot, startProxy } from '../dataplane/fixtures.ts';
import { conformanceTool, run } from './tools.ts';

/** h2spec v2.2.1 against Bulkhead on Node 20: 145 cases, 1 skipped by h2spec itself (6.9.2/3) */
export const H2SPEC_PASSED = 136;
export const H2SPEC_FAILED = [
  'http2/3.5/2',
  'http2/5.1/8',
  'http2/5.1/9',
  'http2/5.1/11',
  'http2/5.1/12',
  'http2/5.1.1/2',
  'http2/6.7/2',
  'http2/6.9.1/2',
];
const DOC = fileURLToPath(new URL('../../docs/CONFORMANCE.md', import.meta.url));

interface Outcome {
  passed: string[];
  failed: string[];
  skipped: string[];
}

/** Case ids (`<package>/<index in its group>`) by outcome, from h2spec's JUnit report. */
export function parseJunit(xml: string): Outcome {
  const out: Outcome = { passed: [], failed: [], skipped: [] };
  for (const suite of xml.split('<testsuite ').slice(1)) {
    const pkg = /package="([^"]+)"/.exec(suite)![1]!;
    const cases = suite.split('<testcase ').slice(1);
    cases.forEach((c, i) => {
      const id = `${pkg}/${i + 1}`;
      if (c.includes('<error>') || c.includes('<failure')) out.failed.push(id);
      else if (c.includes('<skipped')) out.skipped.push(id);
      else out.passed.push(id);
    });
  }
  return out;
}

test('h2spec on the h2c port: the documented pass count and failures', async () => {
  const h2spec = await conformanceTool('h2spec');
  // the answer waits 100 ms: cases that send frames after END_STREAM (5.1/5: DATA on a half-closed
  // stream) must find the stream still open on our side, not already answered and closed (a race
  // that made the outcome depend on the machine's speed)
  const be = await httpBackend((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('ok'), 100));
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { accessLog: { enabled: false, sampleRate: 1 } },
    }),
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-h2spec-'));
  try {
    const report = path.join(dir, 'report.xml');
    const r = await run(h2spec, ['-h', '127.0.0.1', '-p', String(dp.port), '-o', '5', '-j', report], 300_000);
    const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    const summary = /(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/.exec(plain);
    assert.ok(summary !== null, `h2spec printed no summary (exit ${r.code}): ${r.stderr}`);
    const o = parseJunit(readFileSync(report, 'latin1'));
    process.stderr.write(`  h2spec: ${summary[0]}\n`);
    assert.equal(o.failed, H2SPEC_FAILED, plain.slice(plain.indexOf('Failures:')));
    assert.is(o.passed.length, H2SPEC_PASSED);
    assert.is(Number(summary[2]), H2SPEC_PASSED);
    // every failure is explained in the conformance document
    const doc = readFileSync(DOC, 'utf8');
    for (const id of H2SPEC_FAILED)
      assert.ok(doc.includes('`' + id + '`'), `docs/CONFORMANCE.md does not explain ${id}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dp.close();
    await closeServer(be);
  }
});

test.run();
