// The config stream as an operator extra server. Only the leader serves it: every ACK and NACK
// must reach the one replica that writes `Programmed`, so a standby refuses streams (UNAVAILABLE)
// and data planes, retrying with jitter through the operator Service, land on the leader. Snapshots
// come from the leader's own compile passes (the same deterministic versions any replica computes).
// The leader also keeps one credential Secret per pool (`bulkhead-<pool>-credential`, key `token`),
// which the synthesizer mounts into that pool's pods only, together with the CA of the stream's TLS
// certificate (key `ca.crt`; stream-tls.ts): data planes verify the operator before sending the token.

import { checkSnapshotShape } from '../ir/snapshot-validate.ts';
import { PoolCredentials } from './credentials.ts';
import { ConfigStreamServer } from './server.ts';
import { CA_KEY, type StreamTls } from './stream-tls.ts';
import { loadOrCreateStreamTls, streamHosts } from './stream-tls-secret.ts';
import type { CompileResult } from '../compiler/index.ts';
import type { ExtraServer, OperatorContext } from '../operator/operator.ts';
import type { ApiResource } from '../operator/api-resources.ts';
import { isConflict, isNotFound } from '../operator/kube-rest.ts';

const SECRET: ApiResource = { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true };
const LEADERSHIP_POLL_MS = 1000;

export interface ConfigStreamConfig {
  /** `host:port` to listen on, e.g. `0.0.0.0:18000` */
  addr: string;
  /** namespace of the master key Secret; default bulkhead-system */
  namespace?: string;
  keySecretName?: string;
  /** a fixed master key (tests); otherwise read or created in the key Secret */
  masterKey?: Buffer;
  /**
   * the stream's TLS certificate; by default read from (or made into) the Secret bulkhead-config-tls;
   * null = plaintext, which data planes accept on loopback addresses only
   */
  tls?: StreamTls | null;
  /** more names the certificate must carry, e.g. the host of --control-plane-address */
  hosts?: string[];
}

export function credentialSecretName(pool: string): string {
  return `bulkhead-${pool}-credential`;
}

export class OperatorConfigStream implements ExtraServer {
  server: ConfigStreamServer | null = null;
  port = 0;
  private creds: PoolCredentials | null = null;
  private published = new Set<string>();
  /** last compiled version per pool: only a new compile result is published, never a repeat */
  private compiled = new Map<string, string>();
  private credentialsWritten = new Map<string, string>();
  private leaderTimer: NodeJS.Timeout | null = null;
  private wasLeader = false;
  private ctx: OperatorContext | null = null;
  private tls: StreamTls | null = null;

  constructor(private readonly cfg: ConfigStreamConfig) {}

  async start(ctx: OperatorContext): Promise<void> {
    this.ctx = ctx;
    this.creds = new PoolCredentials(this.cfg.masterKey ?? (await this.loadOrCreateKey(ctx)));
    const namespace = this.cfg.namespace ?? 'bulkhead-system';
    this.tls =
      this.cfg.tls !== undefined
        ? this.cfg.tls
        : await loadOrCreateStreamTls(
            ctx.rest,
            namespace,
            streamHosts(namespace, [hostOf(this.cfg.addr), ...(this.cfg.hosts ?? [])]),
          );
    const server = new ConfigStreamServer({
      credentials: this.creds,
      tls: this.tls,
      registry: ctx.metrics.registry,
      log: ctx.logger,
      accepting: () => ctx.isLeader(),
    });
    this.server = server;
    this.port = await server.listen(this.cfg.addr);
    server.on('status', (pool: string) => this.report(pool));
    ctx.onCompiled((r) => void this.sync(r));
    const last = ctx.lastResult();
    if (last) await this.sync(last);
    this.leaderTimer = setInterval(() => this.watchLeadership(), LEADERSHIP_POLL_MS);
    this.leaderTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.leaderTimer) clearInterval(this.leaderTimer);
    await this.server?.close();
    this.server = null;
  }

  private watchLeadership(): void {
    const leader = this.ctx!.isLeader();
    if (this.wasLeader && !leader)
      this.server?.disconnectAll('BH_ERR_NOT_LEADER: leadership moved to another operator replica');
    if (!this.wasLeader && leader) {
      const last = this.ctx!.lastResult();
      if (last) void this.sync(last);
    }
    this.wasLeader = leader;
  }

  /** Publish every accepted pool's snapshot; keep credentials; forget deleted pools. */
  private async sync(result: CompileResult): Promise<void> {
    const server = this.server;
    if (!server) return;
    const pools = new Set(Object.keys(result.snapshots));
    for (const [pool, snapshot] of Object.entries(result.snapshots)) {
      // the IR guards itself: a snapshot that fails its own check is never published
      const problem = checkSnapshotShape(snapshot);
      if (problem !== null) {
        this.ctx!.logger.error(
          { pool, version: snapshot.version, problem },
          'compiled snapshot refused by its own check; keeping the last one',
        );
        continue;
      }
      if (this.compiled.get(pool) !== snapshot.version) {
        this.compiled.set(pool, snapshot.version);
        server.publish(pool, snapshot);
      }
      this.report(pool);
    }
    for (const pool of this.published) {
      if (pools.has(pool)) continue;
      server.withdraw(pool);
      this.compiled.delete(pool);
    }
    this.published = pools;
    if (!this.ctx!.isLeader()) return;
    for (const pool of pools)
      await this.ensureCredential(pool, result).catch((err) =>
        this.ctx!.logger.warn({ pool, err: String(err) }, 'credential Secret'),
      );
    for (const pool of [...this.credentialsWritten.keys()]) {
      if (
        pools.has(pool) ||
        this.ctx!.bag().ingressPools.some((p) => `${p.metadata.namespace}/${p.metadata.name}` === pool)
      )
        continue;
      const [ns, name] = pool.split('/') as [string, string];
      await this.ctx!.rest.delete(SECRET, ns, credentialSecretName(name)).catch((e) =>
        isNotFound(e) ? undefined : Promise.reject(e),
      );
      this.credentialsWritten.delete(pool);
    }
  }

  private report(pool: string): void {
    const ctx = this.ctx;
    const server = this.server;
    if (!ctx || !server || !ctx.isLeader()) return;
    const version = server.currentVersion(pool);
    if (version === null) return;
    ctx.setProgrammed(pool, { version, ...server.programmed(pool) });
  }

  private async ensureCredential(pool: string, result: CompileResult): Promise<void> {
    const token = this.creds!.tokenFor(pool);
    const ca = this.tls?.caCert ?? '';
    if (this.credentialsWritten.get(pool) === token + ca) return;
    const [namespace, name] = pool.split('/') as [string, string];
    const uid = result.infra[pool]?.pool.uid;
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: credentialSecretName(name),
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.dev/pool': name },
        ...(uid
          ? {
              ownerReferences: [
                {
                  apiVersion: 'bulkhead.dev/v1alpha1',
                  kind: 'IngressPool',
                  name,
                  uid,
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            }
          : {}),
      },
      type: 'Opaque',
      data: {
        token: Buffer.from(token).toString('base64'),
        ...(ca === '' ? {} : { [CA_KEY]: Buffer.from(ca).toString('base64') }),
      } as Record<string, string>,
    };
    try {
      const live = await this.ctx!.rest.get<{ data?: Record<string, string> }>(
        SECRET,
        namespace,
        secret.metadata.name,
      );
      if (live.data?.token !== secret.data.token || live.data?.[CA_KEY] !== secret.data[CA_KEY])
        await this.ctx!.rest.apply(SECRET, secret, 'bulkhead');
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.ctx!.rest.apply(SECRET, secret, 'bulkhead');
    }
    this.credentialsWritten.set(pool, token + ca);
  }

  private async loadOrCreateKey(ctx: OperatorContext): Promise<Buffer> {
    const namespace = this.cfg.namespace ?? 'bulkhead-system';
    const name = this.cfg.keySecretName ?? 'bulkhead-config-key';
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const s = await ctx.rest.get<{ data?: { key?: string } }>(SECRET, namespace, name);
        if (s.data?.key) return Buffer.from(s.data.key, 'base64');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        const key = PoolCredentials.generateKey();
        await ctx.rest.create(SECRET, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'bulkhead' } },
          type: 'Opaque',
          data: { key: key.toString('base64') },
        } as never);
        return key;
      } catch (err) {
        if (!isConflict(err)) throw err;
        // another replica created it first: read theirs
      }
    }
    throw new Error(`BH_ERR_CREDENTIAL_KEY: could not read or create Secret ${namespace}/${name}`);
  }
}

function hostOf(addr: string): string {
  return addr.startsWith('[') ? addr.slice(1, addr.indexOf(']')) : addr.replace(/:\d+$/, '');
}

export function configStreamExtraServer(cfg: ConfigStreamConfig): OperatorConfigStream {
  return new OperatorConfigStream(cfg);
}
