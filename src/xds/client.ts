// The data plane's side of config distribution: keeps one stream open to the operator for its
// pool, applies every snapshot it receives through the SnapshotStore and answers ACK or NACK.
// When the operator is unreachable it keeps serving its last good snapshot and reconnects with
// exponential back-off and full jitter, announcing the version it serves so an identical
// snapshot is never re-sent or re-swapped.

import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { PoolSnapshot } from '../ir/snapshot.ts';
import { clientCredentials } from './stream-tls.ts';
import { configStreamDefinition, KEEPALIVE_CLIENT, type ConfigMsg, type DataPlaneMsg } from './proto.ts';

export interface ConfigStreamClientOptions {
  address: string;
  /** `<namespace>/<name>` */
  pool: string;
  token: string;
  /** PEM of the operator's CA: the stream runs over TLS verified against it; null = plaintext, loopback only */
  ca?: string | null;
  replica: string;
  /** the data plane's SnapshotStore.apply */
  apply(
    snapshot: PoolSnapshot,
  ): { ok: true } | { ok: false; error: string } | Promise<{ ok: true } | { ok: false; error: string }>;
  /** the version served now, or null */
  appliedVersion(): string | null;
  backoff?: { baseMs: number; maxMs: number };
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

/** Codes that will not change by retrying soon: still retried, but at the maximum back-off. */
const FATAL = new Set([grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED]);

export class ConfigStreamClient extends EventEmitter {
  private readonly client: grpc.Client;
  private call: grpc.ClientDuplexStream<DataPlaneMsg, ConfigMsg> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = false;
  connected = false;
  lastError: string | null = null;

  constructor(private readonly opts: ConfigStreamClientOptions) {
    super();
    const Ctor = configStreamDefinition().client;
    // throws BH_ERR_CONFIG_STREAM_INSECURE rather than send the token in clear over a network
    this.client = new Ctor(opts.address, clientCredentials(opts.address, opts.ca ?? null), KEEPALIVE_CLIENT);
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.call?.cancel();
    this.call = null;
    this.client.close();
  }

  private open(): void {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${this.opts.token}`);
    md.set('x-bulkhead-pool', this.opts.pool);
    const call = this.client.makeBidiStreamRequest(
      '/bulkhead.config.v1.ConfigStream/Stream',
      serialize,
      deserialize,
      md,
    ) as grpc.ClientDuplexStream<DataPlaneMsg, ConfigMsg>;
    this.call = call;
    call.write({
      hello: {
        pool: this.opts.pool,
        replica: this.opts.replica,
        appliedVersion: this.opts.appliedVersion() ?? '',
      },
    });
    call.on('data', (m: ConfigMsg) => this.onSnapshot(call, m));
    // the server sends headers only once it accepted the credential and the Hello
    call.on('metadata', () => {
      if (call !== this.call || this.connected) return;
      this.connected = true;
      this.attempt = 0;
      this.emit('connected');
    });
    call.on('error', (err: grpc.ServiceError) => this.retry(call, err.code, err.details || err.message));
    call.on('end', () => this.retry(call, grpc.status.UNAVAILABLE, 'stream ended by the operator'));
  }

  private onSnapshot(call: grpc.ClientDuplexStream<DataPlaneMsg, ConfigMsg>, m: ConfigMsg): void {
    type Result = { ok: true } | { ok: false; error: string };
    let result: Result | Promise<Result>;
    try {
      result = this.opts.apply(JSON.parse(m.snapshotJson) as PoolSnapshot);
    } catch (err) {
      result = { ok: false, error: `snapshot is not valid JSON: ${(err as Error).message}` };
    }
    const answer = (r: Result): void => {
      if (call !== this.call) return; // the stream was replaced meanwhile: the new one re-sends
      if (r.ok) call.write({ ack: { version: m.version } });
      else call.write({ nack: { version: m.version, error: r.error } });
      this.emit(r.ok ? 'applied' : 'refused', m.version, r.ok ? undefined : r.error);
    };
    // with worker processes the answer waits until every worker applied the snapshot
    if (result instanceof Promise)
      result.then(answer, (err: Error) => answer({ ok: false, error: err.message }));
    else answer(result);
  }

  private retry(call: grpc.ClientDuplexStream<DataPlaneMsg, ConfigMsg>, code: number, detail: string): void {
    if (call !== this.call) return; // a stale stream's late event
    this.call = null;
    if (this.connected) this.emit('disconnected', detail);
    this.connected = false;
    this.lastError = `${grpc.status[code] ?? code}: ${detail}`;
    if (this.stopped) return;
    const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 250, maxMs: 30_000 };
    const ceiling = FATAL.has(code) ? maxMs : Math.min(maxMs, baseMs * 2 ** this.attempt++);
    const delay = Math.round(Math.random() * ceiling);
    this.opts.log?.warn(
      { pool: this.opts.pool, error: this.lastError, retryInMs: delay },
      'config stream lost; serving the last good snapshot',
    );
    this.emit('retrying', delay, this.lastError);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, delay);
    this.timer.unref();
  }
}

// proto-loader's generated serializers, looked up once from the service definition
const method = () =>
  configStreamDefinition().service['Stream'] as grpc.MethodDefinition<DataPlaneMsg, ConfigMsg>;
function serialize(m: DataPlaneMsg): Buffer {
  return method().requestSerialize(m);
}
function deserialize(b: Buffer): ConfigMsg {
  return method().responseDeserialize(b);
}
