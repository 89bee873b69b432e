// Coded proxy errors: every answer the data plane makes on its own (no route, overload, upstream
// failure) comes from this table, so status, the short `x-bulkhead-reason` header, the text body and
// the gRPC status stay consistent between HTTP/1.1, HTTP/2 and gRPC clients.

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

export interface ProxyError {
  readonly code: string;
  readonly status: number;
  /** value of `x-bulkhead-reason`: short, lower-case, stable (dashboards and alerts key on it) */
  readonly reason: string;
  readonly grpcStatus: GrpcStatus;
  /** precomputed text body */
  readonly body: Buffer;
  /** `Retry-After: 1` on shedding answers */
  readonly retryAfter: boolean;
}

/** The one factory for coded errors; policies make their own (429 for a rate limit, 403, ...) with it. */
export function proxyError(
  code: string,
  status: number,
  reason: string,
  grpcStatus: GrpcStatus,
  text: string,
  retryAfter = false,
): ProxyError {
  return { code, status, reason, grpcStatus, body: Buffer.from(text + '\n'), retryAfter };
}
const def = proxyError;

export const Errors = {
  noRoute: def(
    'BH_ERR_NO_ROUTE',
    404,
    'no-route',
    // what a gRPC server answers for a method it does not serve; clients report it as such
    GrpcStatus.UNIMPLEMENTED,
    'no route matches this host and path',
  ),
  noHealthyUpstream: def(
    'BH_ERR_NO_HEALTHY_UPSTREAM',
    503,
    'no-healthy-upstream',
    GrpcStatus.UNAVAILABLE,
    'no healthy upstream endpoint',
  ),
  noCluster: def(
    'BH_ERR_NO_CLUSTER',
    503,
    'no-cluster',
    GrpcStatus.UNAVAILABLE,
    'the route has no backend to send to',
  ),
  overloaded: def(
    'BH_ERR_OVERLOADED',
    503,
    'overloaded',
    GrpcStatus.RESOURCE_EXHAUSTED,
    'too many concurrent requests',
    true,
  ),
  eventLoopLag: def(
    'BH_ERR_EVENT_LOOP_LAG',
    503,
    'event-loop-lag',
    GrpcStatus.RESOURCE_EXHAUSTED,
    'proxy overloaded',
    true,
  ),
  retryBudget: def(
    'BH_ERR_RETRY_BUDGET',
    503,
    'retry-budget-exhausted',
    GrpcStatus.UNAVAILABLE,
    'upstream failed and the retry budget is exhausted',
  ),
  connectFailure: def(
    'BH_ERR_UPSTREAM_CONNECT',
    502,
    'upstream-connect-failure',
    GrpcStatus.UNAVAILABLE,
    'could not connect to the upstream',
  ),
  upstreamReset: def(
    'BH_ERR_UPSTREAM_RESET',
    502,
    'upstream-reset',
    GrpcStatus.UNAVAILABLE,
    'the upstream reset the connection',
  ),
  upstreamProtocol: def(
    'BH_ERR_UPSTREAM_PROTOCOL',
    502,
    'upstream-protocol-error',
    GrpcStatus.INTERNAL,
    'the upstream answered with an invalid response',
  ),
  upstreamTimeout: def(
    'BH_ERR_UPSTREAM_TIMEOUT',
    504,
    'upstream-timeout',
    GrpcStatus.DEADLINE_EXCEEDED,
    'the upstream did not answer in time',
  ),
  requestTimeout: def(
    'BH_ERR_REQUEST_TIMEOUT',
    504,
    'request-timeout',
    GrpcStatus.DEADLINE_EXCEEDED,
    'the request took longer than its route allows',
  ),
  sendTimeout: def(
    'BH_ERR_SEND_TIMEOUT',
    504,
    'send-timeout',
    GrpcStatus.DEADLINE_EXCEEDED,
    'the request body stalled',
  ),
  deadlineExceeded: def(
    'BH_ERR_DEADLINE_EXCEEDED',
    504,
    'deadline-exceeded',
    GrpcStatus.DEADLINE_EXCEEDED,
    'grpc-timeout deadline exceeded',
  ),
  uriTooLong: def('BH_ERR_URI_TOO_LONG', 414, 'uri-too-long', GrpcStatus.INTERNAL, 'request URI too long'),
  websocketLimit: def(
    'BH_ERR_WEBSOCKET_LIMIT',
    503,
    'websocket-limit',
    GrpcStatus.RESOURCE_EXHAUSTED,
    'too many WebSocket connections',
    true,
  ),
  websocketDisabled: def(
    'BH_ERR_WEBSOCKET_DISABLED',
    404,
    'websocket-disabled',
    GrpcStatus.NOT_FOUND,
    'WebSocket is disabled on this pool',
  ),
  policyFailure: def(
    'BH_ERR_POLICY_FAILURE',
    500,
    'policy-failure',
    GrpcStatus.INTERNAL,
    'a policy of this route failed',
  ),
  badPath: def('BH_ERR_BAD_PATH', 400, 'bad-path', GrpcStatus.INTERNAL, 'malformed request path'),
  notReady: def('BH_ERR_NOT_READY', 503, 'no-config', GrpcStatus.UNAVAILABLE, 'no configuration loaded yet'),
} as const;

/** A route's directResponse, turned into the same shape once per snapshot. */
export function directResponseError(status: number, reason: string): ProxyError {
  const grpc =
    status === 404
      ? GrpcStatus.NOT_FOUND
      : status === 429
        ? GrpcStatus.RESOURCE_EXHAUSTED
        : GrpcStatus.UNAVAILABLE;
  return def('BH_ERR_DIRECT_RESPONSE', status, reason, grpc, reason);
}
