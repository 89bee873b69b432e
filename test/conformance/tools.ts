// The Go-built conformance tools (scripts/setup-conformance.sh, cached in ~/.cache/bulkhead/bin).
// Outside CI a missing tool is built on first use; under CI=true it fails the test (never a skip).

import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SETUP = fileURLToPath(new URL('../../scripts/setup-conformance.sh', import.meta.url));

/** where the setup scripts cache Go-built binaries (as test/cluster/harness.ts) */
export function cacheBinDir(): string {
  return join(process.env.BULKHEAD_CACHE || join(homedir(), '.cache', 'bulkhead'), 'bin');
}

async function executable(p: string): Promise<boolean> {
  try {
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function conformanceTool(
  name: 'h2spec' | 'grpc-interop-client' | 'grpc-interop-server',
): Promise<string> {
  const p = `${cacheBinDir()}/${name}`;
  if (await executable(p)) return p;
  if (process.env.CI === 'true')
    throw new Error(
      `${name} not found in ${cacheBinDir()}: run "bash scripts/setup-conformance.sh" first (CI must not skip conformance tests)`,
    );
  const code = await new Promise<number | null>((resolve) =>
    spawn('bash', [SETUP], { stdio: ['ignore', 'inherit', 'inherit'] }).once('exit', resolve),
  );
  if (code !== 0 || !(await executable(p)))
    throw new Error(`scripts/setup-conformance.sh exited ${code}; no ${p}`);
  return p;
}

/** Runs a command to completion; resolves with its exit code and output (bounded by `timeoutMs`). */
export function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
