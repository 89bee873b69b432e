// Connects a running data plane to the operator's config stream: the pod starts from its bootstrap
// snapshot (ConfigMap), then follows the stream. Used by `bulkhead dataplane --control-plane`.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import type { PoolSnapshot } from '../ir/snapshot.ts';
import { ConfigStreamClient } from './client.ts';
import { CA_KEY } from './stream-tls.ts';

export interface StreamTarget {
  apply(
    s: PoolSnapshot,
  ): { ok: true } | { ok: false; error: string } | Promise<{ ok: true } | { ok: false; error: string }>;
  /** the version served now */
  version(): string | null;
}

export interface LinkOptions {
  address: string;
  pool: string;
  /** file holding the pool token (the mounted Secret key `token`) */
  credentialFile: string;
  /** the operator's CA (PEM file); default `ca.crt` beside the credential file when it exists */
  caFile?: string;
  replica?: string;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export function linkToControlPlane(target: StreamTarget, opts: LinkOptions): ConfigStreamClient {
  if (!/^[a-z0-9.-]+\/[a-z0-9.-]+$/.test(opts.pool)) {
    throw new Error(`BH_ERR_POOL_REF: --pool must be <namespace>/<name>, got ${JSON.stringify(opts.pool)}`);
  }
  const token = readFileSync(opts.credentialFile, 'utf8').trim();
  if (!token) throw new Error(`BH_ERR_CREDENTIAL: ${opts.credentialFile} is empty`);
  const sibling = join(dirname(opts.credentialFile), CA_KEY);
  const caFile = opts.caFile ?? (existsSync(sibling) ? sibling : null);
  const client = new ConfigStreamClient({
    address: opts.address,
    pool: opts.pool,
    token,
    ca: caFile === null ? null : readFileSync(caFile, 'utf8'),
    replica: opts.replica ?? process.env.POD_NAME ?? `${hostname()}:${process.pid}`,
    apply: (s) => target.apply(s),
    appliedVersion: () => target.version(),
    log: opts.log,
  });
  client.start();
  return client;
}
