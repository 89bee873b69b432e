// Leader election on a coordination.k8s.io/v1 Lease (client-node has none). The client-go
// algorithm: try to acquire or renew every retry period with optimistic concurrency on the Lease's
// resourceVersion; a lease held by someone else counts as expired only when its record has not
// changed for a full lease duration measured on OUR clock (never compare clocks across machines).
// A leader that cannot renew within the renew deadline stops leading at once; on stop it releases
// the lease (holder empty) so a standby takes over without waiting for expiry.

import { RESOURCES } from './api-resources.ts';
import { isConflict, isNotFound, type KubeObject, type KubeRest } from './kube-rest.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name?: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onError?(err: unknown): void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  leading = false;
  private readonly name: string;
  private readonly durationMs: number;
  private readonly deadlineMs: number;
  private readonly retryMs: number;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly rest: KubeRest,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.name = opts.name ?? 'bulkhead-operator';
    this.durationMs = (opts.leaseDurationSeconds ?? 15) * 1000;
    this.deadlineMs =
      (opts.renewDeadlineSeconds ?? Math.max(1, Math.floor((opts.leaseDurationSeconds ?? 15) * (2 / 3)))) *
      1000;
    this.retryMs = (opts.retryPeriodSeconds ?? Math.max(0.5, (opts.leaseDurationSeconds ?? 15) / 7.5)) * 1000;
    if (this.deadlineMs >= this.durationMs)
      throw new Error('BH_ERR_LEADER_ELECTION: renew deadline must be shorter than the lease duration');
  }

  start(): void {
    this.tick();
  }

  /** Stops campaigning; a leader releases the lease (unless told not to, to test expiry). */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
    if (this.leading) {
      this.loseLeadership();
      if (release) await this.release().catch((err) => this.opts.onError?.(err));
    }
  }

  private tick(): void {
    if (this.stopped) return;
    this.inFlight = this.attempt().finally(() => {
      this.inFlight = undefined;
      if (!this.stopped) {
        this.timer = setTimeout(() => this.tick(), this.retryMs);
        this.timer.unref?.();
      }
    });
  }

  private async attempt(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.onError?.(err);
    }
    if (this.stopped) return;
    const now = Date.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        this.opts.onStartedLeading();
      }
    } else if (this.leading && now - this.lastRenew > this.deadlineMs) {
      this.loseLeadership();
    }
  }

  private loseLeadership(): void {
    if (!this.leading) return;
    this.leading = false;
    this.opts.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    let lease: Lease;
    try {
      lease = await this.rest.get<Lease>(RESOURCES.Lease, this.opts.namespace, this.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const fresh: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.name, namespace: this.opts.namespace },
        spec: this.record(now, now, 0),
      };
      try {
        await this.rest.create(RESOURCES.Lease, fresh);
        return true;
      } catch (e) {
        if (isConflict(e)) return false; // someone else created it first
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const recordKey = `${holder}|${spec.renewTime ?? ''}|${spec.leaseTransitions ?? 0}`;
    if (!this.observed || this.observed.record !== recordKey) this.observed = { record: recordKey, at: now };
    const heldByOther = holder !== '' && holder !== this.opts.identity;
    const durationMs = (spec.leaseDurationSeconds ?? this.durationMs / 1000) * 1000;
    if (heldByOther && this.observed.at + durationMs > now) return false;

    const mine = holder === this.opts.identity;
    const acquire = mine && spec.acquireTime ? Date.parse(spec.acquireTime) : now;
    const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const updated: Lease = { ...lease, spec: this.record(acquire, now, transitions) };
    try {
      await this.rest.update(RESOURCES.Lease, updated);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private record(acquireMs: number, renewMs: number, transitions: number): LeaseSpec {
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.round(this.durationMs / 1000),
      acquireTime: microTime(acquireMs),
      renewTime: microTime(renewMs),
      leaseTransitions: transitions,
    };
  }

  private async release(): Promise<void> {
    const lease = await this.rest.get<Lease>(RESOURCES.Lease, this.opts.namespace, this.name);
    if (lease.spec?.holderIdentity !== this.opts.identity) return;
    const now = Date.now();
    await this.rest.update(RESOURCES.Lease, {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(now),
        acquireTime: microTime(now),
      },
    });
  }
}
