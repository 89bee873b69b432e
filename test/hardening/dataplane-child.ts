// A data plane in its own process (`node bin/bulkhead.mjs dataplane --snapshot <file>`), for the
// hardening tests: a crash shows as the child exiting (not as the test runner dying), and its RSS and
// open file descriptors are read from /proc without the test's own allocations mixed in.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PoolSnapshot } from '../../src/ir/snapshot.ts';

const BIN = fileURLToPath(new URL('../../bin/bulkhead.mjs', import.meta.url));

export interface DataplaneChild {
  proc: ChildProcess;
  port: number;
  adminPort: number;
  /** stderr lines so far (the CLI's own messages and crash traces) */
  stderr: string[];
  /** stdout lines (access and process logs), the last 2,000 */
  stdout: string[];
  /** resident set size in bytes, from /proc/<pid>/status */
  rss(): number;
  /** open file descriptors, from /proc/<pid>/fd */
  fds(): number;
  /** one sample of a metric from the admin port, summed over the label sets matching `labels` */
  metric(name: string, labels?: string): Promise<number>;
  exited(): boolean;
  stop(): Promise<number | null>;
}

export async function spawnDataplane(snapshot: PoolSnapshot, args: string[] = []): Promise<DataplaneChild> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-hardening-'));
  const file = path.join(dir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(snapshot));
  const proc = spawn(
    process.execPath,
    [
      BIN,
      'dataplane',
      '--snapshot',
      file,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--host',
      '127.0.0.1',
      '--workers',
      '1',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  const stdout: string[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      exitCode = code;
      rmSync(dir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  let outRest = '';
  proc.stdout!.on('data', (c: Buffer) => {
    const parts = (outRest + c.toString()).split('\n');
    outRest = parts.pop()!;
    for (const l of parts) stdout.push(l);
    if (stdout.length > 4000) stdout.splice(0, stdout.length - 2000);
  });
  const ports = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
    let rest = '';
    proc.stderr!.on('data', (c: Buffer) => {
      const parts = (rest + c.toString()).split('\n');
      rest = parts.pop()!;
      for (const l of parts) {
        stderr.push(l);
        const m = /serving on port (\d+), admin on (\d+)/.exec(l);
        if (m !== null) resolve({ port: Number(m[1]), adminPort: Number(m[2]) });
      }
    });
    void exited.then((code) => reject(new Error(`data plane exited (${code}): ${stderr.join('\n')}`)));
    setTimeout(() => reject(new Error(`data plane did not start: ${stderr.join('\n')}`)), 20_000).unref();
  });
  const pid = proc.pid!;
  return {
    proc,
    ...ports,
    stderr,
    stdout,
    // 0 once the process is gone (a zombie has no VmRSS line)
    rss: () => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m === null ? 0 : Number(m[1]) * 1024;
      } catch {
        return 0;
      }
    },
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    metric: async (name, labels = '') => {
      const res = await fetch(`http://127.0.0.1:${ports.adminPort}/metrics`);
      let sum = 0;
      for (const line of (await res.text()).split('\n')) {
        if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
        if (labels !== '' && !line.includes(labels)) continue;
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
    exited: () => exitCode !== undefined,
    stop: async () => {
      if (exitCode === undefined) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return exitCode;
    },
  };
}

const ATTACKER = fileURLToPath(new URL('./attacker.ts', import.meta.url));

/** Runs one attack of attacker.ts in its own process; resolves with its JSON result. */
export function attack<T>(name: string, port: number, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', ATTACKER, name, String(port), String(ms)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), ms + 30_000);
    p.once('exit', (code) => {
      clearTimeout(t);
      if (code !== 0) return reject(new Error(`attacker ${name} exited ${code}`));
      resolve(JSON.parse(out) as T);
    });
  });
}
