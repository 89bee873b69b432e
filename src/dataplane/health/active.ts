// Active health checks: every interval, GET the configured path on every endpoint, or for an H2C
// cluster with `grpc` set call grpc.health.v1.Health/Check (grpc-probe.ts), one probe in flight
// per endpoint at most. healthyThreshold consecutive expected statuses mark an endpoint
// healthy, unhealthyThreshold consecutive failures mark it unhealthy; endpoints start healthy.
// The endpoint list is read on every round, so one checker serves across snapshot swaps.

import * as https from 'node:https';
import type { UpstreamTls } from '../upstream-tls.ts';
import * as http from 'node:http';
import type { ClusterIR } from '../../ir/snapshot.ts';
import type { EndpointState } from '../balancer/index.ts';
import { probeH2c, probeHttp1 } from './probes.ts';
import { GrpcHealthProber } from './grpc-probe.ts';

export type ProbeRequest = (ep: EndpointState, path: string, timeoutMs: number) => Promise<number>;

export interface ActiveHealthCheckerOptions {
  /** replaces the built-in HTTP/1.1 / h2c probe (tests, other transports); resolves with the status */
  protocolRequest?: ProbeRequest;
  /** called when an endpoint changes between healthy and unhealthy */
  onChange?: (ep: EndpointState, healthy: boolean) => void;
}

interface ProbeState {
  successes: number;
  failures: number;
  inFlight: boolean;
}

export class ActiveHealthChecker {
  private readonly cfg: NonNullable<ClusterIR['healthCheck']['active']> | null;
  private readonly h2: boolean;
  private readonly states = new Map<EndpointState, ProbeState>();
  private readonly aborts = new Set<AbortController>();
  private agent: http.Agent | null = null;
  /** set for the gRPC health protocol; its sessions are kept between rounds */
  private readonly grpc: GrpcHealthProber | null;
  /** TLS clusters: probes use the cluster's TLS settings (set by the snapshot store) */
  tls: UpstreamTls | null = null;
  private tlsVersion = 0;
  private timer: NodeJS.Timeout | null = null;
  /** bumped by start/stop so results of probes from an earlier run are ignored */
  private run = 0;
  private running = false;

  constructor(
    cluster: ClusterIR,
    private readonly endpoints: () => EndpointState[],
    private readonly opts: ActiveHealthCheckerOptions = {},
  ) {
    this.cfg = cluster.healthCheck.active;
    this.h2 = cluster.protocol === 'H2C';
    const g = this.cfg?.grpc ?? null;
    this.grpc = g !== null && this.h2 ? new GrpcHealthProber(g.service) : null;
  }

  /** Probes at once, then every intervalMs. No-op without an active check or when already running. */
  start(): void {
    if (this.cfg === null || this.running) return;
    this.running = true;
    this.run++;
    void this.probeAll();
    this.timer = setInterval(() => void this.probeAll(), this.cfg.intervalMs);
    this.timer.unref();
  }

  /**
   * Cancels the timer and every probe in flight. Endpoint health stays as last decided (a
   * replacement checker takes over from there), unless `resetHealth` is set: use that when the
   * cluster no longer has an active check, so no endpoint stays marked unhealthy forever.
   */
  stop(opts?: { resetHealth?: boolean }): void {
    this.running = false;
    this.run++;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const a of this.aborts) a.abort();
    this.aborts.clear();
    this.agent?.destroy();
    this.agent = null;
    this.grpc?.retain(null);
    for (const s of this.states.values()) s.inFlight = false;
    if (opts?.resetHealth) {
      for (const ep of this.endpoints()) if (!ep.healthy) this.set(ep, true);
      this.states.clear();
    }
  }

  /** One round over the current endpoints; resolves when every probe of the round has finished. */
  async probeAll(): Promise<void> {
    const cfg = this.cfg;
    if (cfg === null) return;
    const eps = this.endpoints();
    const live = new Set(eps);
    for (const ep of this.states.keys()) if (!live.has(ep)) this.states.delete(ep);
    this.grpc?.retain(live);
    const round: Promise<void>[] = [];
    for (const ep of eps) {
      let st = this.states.get(ep);
      if (st === undefined) {
        st = { successes: 0, failures: 0, inFlight: false };
        this.states.set(ep, st);
      }
      if (!st.inFlight) round.push(this.probe(ep, st, cfg));
    }
    await Promise.all(round);
  }

  private async probe(
    ep: EndpointState,
    st: ProbeState,
    cfg: NonNullable<ClusterIR['healthCheck']['active']>,
  ): Promise<void> {
    st.inFlight = true;
    const run = this.run;
    let ok: boolean;
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      if (this.grpc !== null) {
        const t = this.tls;
        if (t !== null) t.refresh();
        ok = await this.grpc.check(ep, cfg.timeoutMs, abort.signal, t === null ? null : t.options);
      } else
        ok = cfg.expectedStatuses.includes(await this.request(ep, cfg.path, cfg.timeoutMs, abort.signal));
    } catch {
      ok = false;
    } finally {
      this.aborts.delete(abort);
    }
    if (run !== this.run) return; // stopped or restarted meanwhile
    st.inFlight = false;
    if (ok) {
      st.failures = 0;
      st.successes++;
      if (!ep.healthy && st.successes >= cfg.healthyThreshold) this.set(ep, true);
    } else {
      st.successes = 0;
      st.failures++;
      if (ep.healthy && st.failures >= cfg.unhealthyThreshold) this.set(ep, false);
    }
  }

  private set(ep: EndpointState, healthy: boolean): void {
    ep.healthy = healthy;
    this.opts.onChange?.(ep, healthy);
  }

  private request(ep: EndpointState, path: string, timeoutMs: number, signal: AbortSignal): Promise<number> {
    if (this.opts.protocolRequest) return this.opts.protocolRequest(ep, path, timeoutMs);
    const t = this.tls;
    if (t !== null && t.refresh() !== this.tlsVersion) {
      this.agent?.destroy();
      this.agent = null;
      this.tlsVersion = t.version;
    }
    if (this.h2) return probeH2c(ep, path, timeoutMs, signal, t === null ? null : t.options);
    this.agent ??=
      t === null
        ? new http.Agent({ keepAlive: true, maxSockets: 1 })
        : new https.Agent({ keepAlive: true, maxSockets: 1, ...t.options });
    return probeHttp1(this.agent, ep, path, timeoutMs, signal);
  }
}
