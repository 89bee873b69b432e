// Redis for the demo's Global rate limits: when `redis-server` is installed (scripts/setup-system.sh
// installs it), the demo starts one on a free loopback port without persistence and writes every
// Secret the pools reference into a temporary `--secrets` directory holding that server's URL. Without
// it the Global limits run on their failureMode (the demo says so); Local limits never need it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretMountRef } from '../ir/infra.ts';

export interface DemoRedis {
  /** the `--secrets` directory, or null when there is no redis-server */
  secretsDir: string | null;
  note: string | null;
  close(): Promise<void>;
}

export async function startDemoRedis(secrets: SecretMountRef[]): Promise<DemoRedis> {
  if (secrets.length === 0) return { secretsDir: null, note: null, close: async () => {} };
  const port = await freePort();
  let proc: ChildProcess;
  try {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await new Promise<void>((resolve, reject) => {
      proc.once('error', reject);
      const until = Date.now() + 5000;
      const probe = (): void => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve()));
        s.once('error', () =>
          Date.now() > until ? reject(new Error('no answer')) : void setTimeout(probe, 20),
        );
      };
      probe();
    });
  } catch {
    return {
      secretsDir: null,
      note: 'redis-server is not installed: Global rate limits run on their failureMode (Open lets traffic through)',
      close: async () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-demo-secrets-'));
  for (const s of secrets) {
    mkdirSync(join(dir, s.namespace, s.name), { recursive: true });
    // the demo does not read the Secret's own value (it names a cluster Service): every key gets the local URL
    writeFileSync(join(dir, s.namespace, s.name, 'url'), `redis://127.0.0.1:${port}/0\n`);
  }
  let exited = false;
  const reap = (): void => void proc.kill('SIGKILL');
  process.once('exit', reap);
  proc.once('exit', () => {
    exited = true;
    process.off('exit', reap);
  });
  return {
    secretsDir: dir,
    note: `Global rate limits count in a local redis-server on 127.0.0.1:${port}`,
    close: async () => {
      if (!exited) proc.kill('SIGTERM');
      while (!exited) await new Promise((r) => setTimeout(r, 10));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
