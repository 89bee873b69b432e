// Secrets as files: `bulkhead dataplane --secrets <dir>` reads `<dir>/<namespace>/<name>/<key>`
// (the layout a Kubernetes Secret volume gives, one directory per Secret). Contents are cached and
// re-read when a file changes (Kubernetes swaps a `..data` symlink on update, which inotify misses,
// so a cheap periodic stat is the reliable way): rotated certificates and Redis URLs take effect
// without a restart. Values are never logged; only the namespace/name/key path is.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';

export interface SecretSource {
  /** the file's bytes, or null when the Secret or key is not mounted */
  get(namespace: string, name: string, key: string): Buffer | null;
  /** `cb(namespace, name, key)` after a file watched through `get` changed */
  onChange(cb: (namespace: string, name: string, key: string) => void): void;
}

interface Entry {
  ns: string;
  name: string;
  key: string;
  path: string;
  value: Buffer | null;
  stamp: string;
}

const SAFE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const SAFE_KEY = /^[-._a-zA-Z0-9]+$/;

export class SecretFiles extends EventEmitter implements SecretSource {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;

  /** `dir` null: no Secrets mounted (every get answers null). */
  constructor(
    private readonly dir: string | null,
    private readonly pollMs = 2000,
  ) {
    super();
  }

  get(ns: string, name: string, key: string): Buffer | null {
    if (this.dir === null) return null;
    // names come from snapshots; never let one climb out of the secrets directory
    if (!SAFE.test(ns) || !SAFE.test(name) || !SAFE_KEY.test(key) || key === '..' || key === '.') return null;
    const id = `${ns}/${name}/${key}`;
    let e = this.entries.get(id);
    if (e === undefined) {
      const path = join(this.dir, ns, name, key);
      e = { ns, name, key, path, value: null, stamp: '' };
      read(e);
      this.entries.set(id, e);
      this.arm();
    }
    return e.value;
  }

  onChange(cb: (namespace: string, name: string, key: string) => void): void {
    this.on('change', cb);
  }

  /** Look for changed files now (the timer does this every pollMs). */
  poll(): void {
    for (const e of this.entries.values()) {
      const before = e.stamp;
      read(e);
      if (e.stamp !== before) this.emit('change', e.ns, e.name, e.key);
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer !== null || this.pollMs <= 0) return;
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }
}

function read(e: Entry): void {
  try {
    const st = statSync(e.path);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (stamp === e.stamp) return;
    e.value = readFileSync(e.path);
    e.stamp = stamp;
  } catch {
    e.value = null;
    e.stamp = 'missing';
  }
}

/** A source with nothing mounted. */
export const noSecrets: SecretSource = {
  get: () => null,
  onChange: () => {},
};
