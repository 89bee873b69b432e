// The per-process state the request path reads: one object built by startDataplane and reachable
// from every server and socket through a symbol slot, so handlers are module-level functions.

import type { SnapshotStore } from './snapshot-store.ts';
import type { DataplaneMetrics, RouteMetrics } from './metrics.ts';
import type { UpstreamRegistry } from './upstreams.ts';
import type { OverloadGuard } from './overload.ts';
import type { RetryBudget } from './retry.ts';
import type { AccessLog } from './access-log.ts';
import type { TunnelRegistry } from './websocket.ts';

export const kRuntime = Symbol('bulkhead.runtime');

export interface ProxyRuntime {
  readonly store: SnapshotStore;
  readonly metrics: DataplaneMetrics;
  readonly upstreams: UpstreamRegistry;
  readonly overload: OverloadGuard;
  readonly budget: RetryBudget;
  readonly accessLog: AccessLog;
  readonly tunnels: TunnelRegistry;
  /** counters for answers made before a route was chosen (no route, shedding) */
  unrouted: RouteMetrics;
  /** URIs longer than this get 414 */
  readonly maxUriBytes: number;
  draining: boolean;
  /** worker processes sharing this replica's per-replica limits (overload, WebSocket connections) */
  readonly workerShare: number;
}
