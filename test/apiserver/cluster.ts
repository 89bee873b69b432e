// Shared steps for the API-server acceptance tests: each test file starts its own cluster and
// installs the CRDs from crds/ the way a user does (kubectl apply -f crds/).

import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import type { KubectlResult, TestCluster } from '../cluster/harness.ts';
import { allCrds } from '../../src/api/crd.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export async function must(p: Promise<KubectlResult>, what: string): Promise<KubectlResult> {
  const r = await p;
  assert.is(r.code, 0, `${what} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r;
}

/**
 * `from: 'files'` applies crds/ as a user does; `from: 'json'` sends allCrds() as JSON, for tests
 * about something else than how the YAML files read (kubectl reads YAML 1.1).
 */
export async function installCrds(cluster: TestCluster, from: 'files' | 'json' = 'files'): Promise<void> {
  if (from === 'files')
    await must(cluster.kubectl(['apply', '-f', `${REPO}crds/`]), 'kubectl apply -f crds/');
  else {
    const list = { apiVersion: 'v1', kind: 'List', items: allCrds() };
    await must(
      cluster.kubectl(['apply', '-f', '-'], JSON.stringify(list)),
      'kubectl apply of allCrds() as JSON',
    );
  }
  await must(
    cluster.kubectl([
      'wait',
      '--for=condition=Established',
      'crd',
      '-l',
      'app.kubernetes.io/part-of=bulkhead',
      '--timeout=60s',
    ]),
    'waiting for the CRDs to be Established',
  );
  // The discovery cache of a fresh kubectl may lag the CRDs by a moment; ask until the kinds resolve.
  for (let i = 0; i < 50; i++) {
    const r = await cluster.kubectl(['get', 'ingresspools,routesplits,ratelimitpolicies', '-A']);
    if (r.code === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.unreachable('the bulkhead kinds never appeared in discovery');
}
