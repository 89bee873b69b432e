// `bulkhead operator` start-up failures: a clear message naming the problem and exit code 1.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const child = fileURLToPath(new URL('./operator-cli-child.ts', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, 'operator', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('a missing kubeconfig file is reported, exit 1', async () => {
  const r = await run(['--kubeconfig', '/nonexistent/kubeconfig']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /BH_ERR_OPERATOR_KUBECONFIG: cannot load kubeconfig \/nonexistent\/kubeconfig/);
  assert.match(r.stderr, /pass --kubeconfig <file>, set KUBECONFIG, or run inside a cluster/);
});

test('a malformed --metrics-addr is reported, exit 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bh-op-cli-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'c', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } },
        ],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const r = await run(['--kubeconfig', kubeconfig, '--metrics-addr', '127.0.0.1:http']);
    assert.is(r.code, 1);
    assert.match(r.stderr, /BH_ERR_OPERATOR_ADDR: --metrics-addr "127\.0\.0\.1:http" has no valid port/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
