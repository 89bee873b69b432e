// The per-route policy chain's contract. A route's chain is built once per snapshot (null when the
// route has no policy) from the factories registered in policy/index.ts, in phase order:
// CORS preflight → authentication → rate limits → (the route: backend choice and upstream attempt).
//
// A policy sees one RequestContext per request and returns a verdict:
//   Continue  — go on with the next policy (it may have added upstream/downstream headers first);
//   Answered  — it answered the request itself (rc.respond / rc.answerError); the chain stops;
//   Pending   — it started asynchronous work (Redis, JWKS, an auth subrequest) and will call exactly
//               one of rc.resume() or rc.respond()/rc.answerError() later. The request body stays
//               unread meanwhile; a client that goes away is noticed (rc.aborted) and resume() then
//               does nothing.
// A policy never throws for a request: a bug in one is caught by the chain runner, counted, and the
// request gets 500 (or the gRPC equivalent) — the process and the other requests carry on.

import type { PoolSnapshot, RouteIR } from '../../ir/snapshot.ts';
import type { DataplaneMetrics } from '../metrics.ts';
import type { SecretSource } from '../secrets.ts';
import type { RequestContext } from '../request-context.ts';

export const Continue = 0;
export const Answered = 1;
export const Pending = 2;
export type Verdict = typeof Continue | typeof Answered | typeof Pending;

export interface RoutePolicy {
  /** short name for metrics and logs, e.g. `ratelimit`, `jwt`, `ext-auth`, `cors` */
  readonly kind: string;
  onRequest(rc: RequestContext): Verdict;
  /** optional: called with the response head before it goes downstream (add or drop headers in `flat`) */
  onResponseHead?(rc: RequestContext, status: number, flat: string[]): void;
}

/** What a factory may use while a snapshot is being built. */
export interface PolicyEnv {
  readonly snapshot: PoolSnapshot;
  readonly metrics: DataplaneMetrics;
  /** Secrets mounted as files (`--secrets <dir>`); empty when the data plane has none. */
  readonly secrets: SecretSource;
  /** worker processes of this replica (a per-replica budget is divided by it) */
  readonly workers: number;
  /**
   * State that must outlive one snapshot (token buckets, Redis clients, JWKS caches): the same key
   * returns the same object across snapshots; an object no snapshot asked for is dropped after the
   * swap (its `close()` is called when it has one).
   */
  keep<T extends object>(key: string, make: () => T): T;
  readonly log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

/** Makes a route's policy of one kind, or null when the route has none of that kind. */
export type PolicyFactory = (route: RouteIR, env: PolicyEnv) => RoutePolicy | null;
