// Kubernetes Events (events.k8s.io/v1) on the operator's objects, so `kubectl describe` and
// `kubectl events` show what happened: Accepted/Programmed transitions, refusals (Conflict,
// PoolNotFound, Invalid ...), prunes and reconcile errors. Fire-and-forget: an event that cannot be
// written is logged and dropped, never retried, never blocking a reconcile. Rate-limited like
// client-go's correlator so a hot loop cannot flood the API server: the same (object, reason, note)
// is sent at most once per `dedupeMs`, and all events share a token bucket.

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ApiResource } from './api-resources.ts';
import { apiVersionOf } from './api-resources.ts';
import type { KubeObject, KubeRest } from './kube-rest.ts';

export const EVENTS: ApiResource = {
  kind: 'Event',
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  namespaced: true,
};
export const REPORTING_CONTROLLER = 'bulkhead.dev/operator';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  log?: Logger;
  /** reportingInstance: the pod name (POD_NAME) or the host name */
  instance?: string;
  /** the same object + reason + note at most once per this long (default 10 min) */
  dedupeMs?: number;
  /** token bucket shared by all events (default burst 25, 5 per second) */
  burst?: number;
  perSecond?: number;
  now?(): number;
}

/** MicroTime: RFC 3339 with microseconds, as events.k8s.io/v1 requires for eventTime */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

let sequence = 0;
function eventSuffix(ms: number): string {
  return `${ms.toString(16)}${(sequence++ & 0xffff).toString(16).padStart(4, '0')}`;
}

export class EventRecorder {
  private readonly sent = new Map<string, number>();
  private tokens: number;
  private lastRefill: number;
  /** events dropped by the rate limits (exported for tests and logs) */
  dropped = 0;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly rest: KubeRest,
    private readonly o: EventRecorderOptions = {},
  ) {
    this.tokens = o.burst ?? 25;
    this.lastRefill = this.now();
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  private admit(key: string): boolean {
    const now = this.now();
    const last = this.sent.get(key);
    if (last !== undefined && now - last < (this.o.dedupeMs ?? 600_000)) return false;
    const burst = this.o.burst ?? 25;
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * (this.o.perSecond ?? 5));
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    if (this.sent.size > 10_000) this.sent.clear(); // bounded memory; worst case one repeat
    this.sent.set(key, now);
    return true;
  }

  /** records an Event about `obj` (its apiVersion from `res`); returns false when rate-limited */
  record(
    res: ApiResource,
    obj: KubeObject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): boolean {
    const { name, namespace, uid } = obj.metadata;
    if (!namespace) return false;
    const text = note.length > 1000 ? `${note.slice(0, 997)}...` : note;
    if (!this.admit(`${uid ?? `${namespace}/${name}`}/${type}/${reason}/${text}`)) {
      this.dropped++;
      return false;
    }
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      // as client-go names them: <object>.<hex time>; generateName would reject the trailing dot
      metadata: { name: `${name.slice(0, 200)}.${eventSuffix(this.now())}`, namespace },
      eventTime: microTime(this.now()),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.o.instance ?? process.env.POD_NAME ?? hostname(),
      action,
      reason,
      type,
      note: text,
      regarding: {
        apiVersion: apiVersionOf(res),
        kind: res.kind,
        name,
        namespace,
        ...(uid ? { uid } : {}),
        ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
      },
    };
    const p = this.rest
      .create(EVENTS, event as unknown as KubeObject)
      .catch((err) =>
        this.o.log?.warn({ err: String(err), reason, object: `${namespace}/${name}` }, 'event dropped'),
      )
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return true;
  }

  /** waits for events in flight (tests, shutdown) */
  async flush(): Promise<void> {
    await Promise.all([...this.inflight]);
  }
}

/** The condition types whose transitions become Events, and the action each one names. */
const EVENT_CONDITIONS: Record<string, string> = {
  Accepted: 'Accept',
  ResolvedRefs: 'ResolveRefs',
  Programmed: 'Program',
};

/**
 * An Event for a top-level condition that changed (status or reason): True is Normal with the
 * condition type as reason (Accepted, Programmed, ResolvedRefs); False is a Warning with the
 * condition's own reason (Conflict, PoolNotFound, Invalid ...). Programmed=False/Pending is every
 * new config version's normal first step, so it is not an event.
 */
export function conditionEvent(
  type: string,
  status: string,
  reason: string,
): { type: EventType; reason: string; action: string } | null {
  const action = EVENT_CONDITIONS[type];
  if (action === undefined || status === 'Unknown') return null;
  if (status === 'True') return { type: 'Normal', reason: type, action };
  if (type === 'Programmed' && reason === 'Pending') return null;
  return { type: 'Warning', reason, action };
}
