// A real redis-server for the Global-mode tests: started on a free loopback port without
// persistence, stopped by PID. scripts/setup-system.sh installs it (Debian package redis-server);
// a missing binary fails the test, never skips it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deadPort, delay } from '../dataplane/fixtures.ts';

export interface RedisServer {
  port: number;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
}

export async function startRedis(port?: number): Promise<RedisServer> {
  const p = port ?? (await deadPort());
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(p),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
    ],
    { stdio: 'ignore' },
  );
  let failed: Error | null = null;
  proc.once('error', (e) => (failed = e));
  const until = Date.now() + 5000;
  for (;;) {
    if (failed !== null)
      throw new Error(
        `redis-server could not start (install it with scripts/setup-system.sh): ${String(failed)}`,
      );
    if (await canConnect(p)) break;
    if (Date.now() > until) throw new Error('redis-server did not listen within 5 s');
    await delay(20);
  }
  let exited = false;
  // a test process that dies early must not leave its redis-server behind
  const reap = (): void => void proc.kill('SIGKILL');
  process.once('exit', reap);
  proc.once('exit', () => {
    exited = true;
    process.off('exit', reap);
  });
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    proc,
    pause: () => void proc.kill('SIGSTOP'),
    resume: () => void proc.kill('SIGCONT'),
    stop: async () => {
      if (exited) return;
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      while (!exited) await delay(10);
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A `--secrets` directory holding `<ns>/<name>/<key>` = value. */
export function secretsDir(files: Record<string, string>): {
  dir: string;
  write(path: string, v: string): void;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'bh-secrets-'));
  const write = (path: string, v: string): void => {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, v);
  };
  for (const [k, v] of Object.entries(files)) write(k, v);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
