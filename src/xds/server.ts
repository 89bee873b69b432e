// The operator's side of config distribution: one gRPC bidi stream per data-plane process,
// authenticated with its pool's credential and scoped to that pool. The server keeps the latest
// snapshot per pool, sends it to a replica that does not already serve it, and records each
// replica's ACK/NACK so the operator can set `Programmed`.

import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PoolSnapshot } from '../ir/snapshot.ts';
import type { PoolCredentials } from './credentials.ts';
import { configStreamDefinition, KEEPALIVE_SERVER, type ConfigMsg, type DataPlaneMsg } from './proto.ts';
import { serverCredentials, type StreamTls } from './stream-tls.ts';
import { programmedVerdict, type ProgrammedVerdict, type ReplicaView } from './programmed.ts';

type Call = grpc.ServerDuplexStream<DataPlaneMsg, ConfigMsg>;

interface Replica extends ReplicaView {
  call: Call;
  pool: string;
  sentVersion: string | null;
  sentAt: number;
}

interface Published {
  version: string;
  json: string;
}

const HELLO_TIMEOUT_MS = 10_000;

export interface ConfigStreamServerOptions {
  credentials: PoolCredentials;
  /** false = refuse new streams with UNAVAILABLE (an operator standby: data planes retry elsewhere) */
  accepting?: () => boolean;
  registry?: Registry;
  /** serve over TLS with this certificate (stream-tls.ts); null/absent = plaintext (loopback only) */
  tls?: StreamTls | null;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export class ConfigStreamServer extends EventEmitter {
  private readonly server = new grpc.Server(KEEPALIVE_SERVER);
  private readonly latest = new Map<string, Published>();
  private readonly replicas = new Map<string, Set<Replica>>();
  private readonly metrics;
  port = 0;

  constructor(private readonly opts: ConfigStreamServerOptions) {
    super();
    const registers = opts.registry ? [opts.registry] : [];
    this.metrics = {
      connected: new Gauge({
        name: 'bulkhead_config_dataplanes_connected',
        help: 'Data planes connected to the config stream',
        labelNames: ['pool'],
        registers,
      }),
      pushes: new Counter({
        name: 'bulkhead_config_pushes_total',
        help: 'Snapshots sent to data planes',
        labelNames: ['pool'],
        registers,
      }),
      acks: new Counter({
        name: 'bulkhead_config_acks_total',
        help: 'Snapshot ACKs from data planes',
        labelNames: ['pool'],
        registers,
      }),
      nacks: new Counter({
        name: 'bulkhead_config_nacks_total',
        help: 'Snapshot NACKs (refusals) from data planes',
        labelNames: ['pool'],
        registers,
      }),
      refused: new Counter({
        name: 'bulkhead_config_streams_refused_total',
        help: 'Streams refused for a bad credential or pool',
        labelNames: ['reason'],
        registers,
      }),
      latency: new Histogram({
        name: 'bulkhead_config_push_ack_seconds',
        help: 'Time from sending a snapshot to its ACK',
        labelNames: ['pool'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
    };
    this.server.addService(configStreamDefinition().service, { stream: (call: Call) => this.accept(call) });
  }

  async listen(address: string): Promise<number> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, serverCredentials(this.opts.tls ?? null), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    return this.port;
  }

  async close(): Promise<void> {
    for (const set of this.replicas.values()) for (const r of set) r.call.end();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
  }

  /** Make `snapshot` the pool's current config; pushed only to replicas not already serving it. */
  publish(poolKey: string, snapshot: PoolSnapshot): void {
    const prev = this.latest.get(poolKey);
    if (prev?.version === snapshot.version) return;
    this.latest.set(poolKey, { version: snapshot.version, json: JSON.stringify(snapshot) });
    for (const r of this.replicas.get(poolKey) ?? []) this.sendIfNeeded(r);
    this.emit('status', poolKey);
  }

  /** The pool is gone: forget its snapshot (connected replicas keep serving what they have). */
  withdraw(poolKey: string): void {
    this.latest.delete(poolKey);
  }

  currentVersion(poolKey: string): string | null {
    return this.latest.get(poolKey)?.version ?? null;
  }

  replicasOf(poolKey: string): ReplicaView[] {
    return [...(this.replicas.get(poolKey) ?? [])].map(
      ({ replica, appliedVersion, lastNack, connectedAt }) => ({
        replica,
        appliedVersion,
        lastNack,
        connectedAt,
      }),
    );
  }

  programmed(poolKey: string): ProgrammedVerdict {
    return programmedVerdict(this.currentVersion(poolKey), this.replicasOf(poolKey));
  }

  /** End every open stream (leadership lost): data planes keep serving and reconnect elsewhere. */
  disconnectAll(reason: string): void {
    for (const set of this.replicas.values())
      for (const r of set) fail(r.call, grpc.status.UNAVAILABLE, reason);
  }

  private accept(call: Call): void {
    if (this.opts.accepting && !this.opts.accepting()) {
      this.metrics.refused.inc({ reason: 'standby' });
      return fail(
        call,
        grpc.status.UNAVAILABLE,
        'BH_ERR_NOT_LEADER: this operator replica is a standby; retry',
      );
    }
    const md = call.metadata;
    const pool = String(md.get('x-bulkhead-pool')[0] ?? '');
    const auth = String(md.get('authorization')[0] ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!pool || !token || !this.opts.credentials.verify(pool, token)) {
      this.metrics.refused.inc({ reason: 'credential' });
      this.opts.log?.warn({ pool, peer: call.getPeer() }, 'config stream refused: bad credential');
      return fail(
        call,
        grpc.status.UNAUTHENTICATED,
        `BH_ERR_CREDENTIAL: the credential does not open pool ${pool || '(none)'}`,
      );
    }
    const helloTimer = setTimeout(
      () => fail(call, grpc.status.DEADLINE_EXCEEDED, 'BH_ERR_NO_HELLO: no Hello within 10s'),
      HELLO_TIMEOUT_MS,
    );
    helloTimer.unref();
    let replica: Replica | null = null;

    call.on('data', (m: DataPlaneMsg) => {
      if (!replica) {
        clearTimeout(helloTimer);
        if (!m.hello)
          return fail(
            call,
            grpc.status.FAILED_PRECONDITION,
            'BH_ERR_NO_HELLO: the first message must be a Hello',
          );
        if (m.hello.pool !== pool) {
          this.metrics.refused.inc({ reason: 'pool' });
          return fail(
            call,
            grpc.status.PERMISSION_DENIED,
            `BH_ERR_POOL_MISMATCH: this credential is for pool ${pool}, not ${m.hello.pool}`,
          );
        }
        replica = {
          call,
          pool,
          replica: m.hello.replica || call.getPeer(),
          appliedVersion: m.hello.appliedVersion || null,
          lastNack: null,
          connectedAt: Date.now(),
          sentVersion: m.hello.appliedVersion || null,
          sentAt: 0,
        };
        call.sendMetadata(new grpc.Metadata()); // tells the client it was accepted
        this.register(replica);
        return;
      }
      if (m.ack) this.onAck(replica, m.ack.version);
      else if (m.nack) this.onNack(replica, m.nack.version, m.nack.error);
    });
    const drop = () => {
      clearTimeout(helloTimer);
      if (replica) this.unregister(replica);
      replica = null;
    };
    call.on('end', () => {
      drop();
      call.end();
    });
    call.on('cancelled', drop);
    call.on('error', drop);
    call.on('close', drop);
  }

  private register(r: Replica): void {
    let set = this.replicas.get(r.pool);
    if (!set) this.replicas.set(r.pool, (set = new Set()));
    set.add(r);
    this.metrics.connected.set({ pool: r.pool }, set.size);
    this.opts.log?.info(
      { pool: r.pool, replica: r.replica, applied: r.appliedVersion },
      'data plane connected',
    );
    this.sendIfNeeded(r);
    this.emit('status', r.pool);
  }

  private unregister(r: Replica): void {
    const set = this.replicas.get(r.pool);
    if (!set?.delete(r)) return;
    this.metrics.connected.set({ pool: r.pool }, set.size);
    this.opts.log?.info({ pool: r.pool, replica: r.replica }, 'data plane disconnected');
    this.emit('status', r.pool);
  }

  private sendIfNeeded(r: Replica): void {
    const cur = this.latest.get(r.pool);
    if (!cur || cur.version === r.appliedVersion || cur.version === r.sentVersion) return;
    r.sentVersion = cur.version;
    r.sentAt = performance.now();
    r.call.write({ version: cur.version, snapshotJson: cur.json });
    this.metrics.pushes.inc({ pool: r.pool });
  }

  private onAck(r: Replica, version: string): void {
    r.appliedVersion = version;
    if (r.lastNack?.version === version) r.lastNack = null;
    this.metrics.acks.inc({ pool: r.pool });
    if (version === r.sentVersion && r.sentAt > 0)
      this.metrics.latency.observe({ pool: r.pool }, (performance.now() - r.sentAt) / 1000);
    this.emit('status', r.pool);
  }

  private onNack(r: Replica, version: string, error: string): void {
    r.lastNack = { version, error };
    this.metrics.nacks.inc({ pool: r.pool });
    this.opts.log?.warn({ pool: r.pool, replica: r.replica, version, error }, 'data plane refused snapshot');
    this.emit('status', r.pool);
  }
}

function fail(call: Call, code: grpc.status, details: string): void {
  call.emit('error', { code, details, metadata: new grpc.Metadata() });
}
