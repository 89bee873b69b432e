// The PoolSnapshot IR: what the compiler produces for one IngressPool and what every data-plane
// replica of that pool loads. Plain serializable data (JSON), durations in milliseconds, every list
// sorted by the compiler so that the same inputs give byte-identical JSON and the same version hash.
// `checkSnapshotShape()` (snapshot-validate.ts) is the guard both the publisher and the data plane run.

export const SNAPSHOT_API = 'bulkhead.dev/snapshot/v1' as const;

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type StringMatchType = 'Exact' | 'RegularExpression';
export type BackendProtocol = 'HTTP1' | 'H2C';
export type LbAlgorithm = 'PeakEWMA' | 'LeastRequest' | 'RoundRobin' | 'ConsistentHash';
export type RetryOn =
  | 'connect-failure'
  | 'refused-stream'
  | 'reset'
  | 'unavailable'
  | '502'
  | '503'
  | '504'
  | 'gateway-error'
  | 'cancelled'
  | 'deadline-exceeded'
  | 'resource-exhausted'
  | 'internal';

export interface ObjectRef {
  namespace: string;
  name: string;
}

export interface ListenerIR {
  port: number;
  adminPort: number;
  maxHeaderBytes: number;
  backlog: number;
  /** downstream (client) connection handling */
  keepAliveTimeoutMs: number;
  maxRequestsPerConnection: number;
  requestHeaderTimeoutMs: number;
  /** path normalisation merges runs of `/` (absent in older snapshots = false) */
  mergeSlashes?: boolean;
  /** (later) HTTPS listener; carried so the data plane issue can implement it */
  tls: ListenerTlsIR | null;
}

export interface ListenerTlsIR {
  port: number;
  certificates: { secretRef: ObjectRef }[];
  minVersion: 'TLS1.2' | 'TLS1.3';
  redirectHTTP: boolean;
  clientAuth: { mode: 'Optional' | 'Required'; caSecretRef: ObjectRef } | null;
}

export interface UpstreamConnIR {
  maxIdlePerEndpoint: number;
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
}

export interface TimeoutsIR {
  connectMs: number;
  readMs: number;
  sendMs: number;
  /** 0 = no overall limit */
  requestMs: number;
}

export interface RetriesIR {
  /** 0 = retries off */
  attempts: number;
  on: RetryOn[];
  /** 0 = the route's read timeout applies per try */
  perTryTimeoutMs: number;
  budgetPercent: number;
  minRetriesPerSecond: number;
}

export interface WebSocketIR {
  enabled: boolean;
  idleTimeoutMs: number;
  /** 0 = unlimited */
  maxConnectionDurationMs: number;
  maxConnections: number;
  drainPeriodMs: number;
  http2: boolean;
}

export interface OverloadIR {
  maxConcurrentRequests: number;
  maxEventLoopDelayMs: number;
}

export interface StringMatchIR {
  name: string; // header names lower-cased by the compiler
  type: StringMatchType;
  value: string;
}

export interface MatchIR {
  path: { type: PathMatchType; value: string } | null;
  method: string | null;
  headers: StringMatchIR[];
  cookies: { name: string; value: string }[];
  queryParams: StringMatchIR[];
}

export interface WeightedBackendIR {
  /** key into PoolSnapshot.clusters */
  cluster: string;
  weight: number;
}

/** CORS of one rule; answered and applied by the data plane's CORS policy (policy/cors.ts). */
export interface CorsIR {
  /** exact origins, `*`, or wildcard-subdomain origins (`https://*.example.com`), lower-cased */
  allowOrigins: string[];
  allowMethods: string[];
  /** lower-cased */
  allowHeaders: string[];
  /** lower-cased */
  exposeHeaders: string[];
  /** -1 = no Access-Control-Max-Age */
  maxAgeSeconds: number;
  allowCredentials: boolean;
}

export interface RouteIR {
  /** `<namespace>/<route>/<rule>/<matchIndex>`: unique in the snapshot, used in metrics and logs */
  id: string;
  route: ObjectRef;
  rule: string;
  /** lower-cased; exact (`shop.example.com`) or wildcard (`*.example.com`); [] = any host */
  hostnames: string[];
  match: MatchIR;
  /** weights > 0 only; empty together with directResponse when nothing can serve */
  backends: WeightedBackendIR[];
  /** set when the rule cannot reach any backend: answer this status with the reason header */
  directResponse: { status: number; reason: string } | null;
  sessionAffinity: { cookie: { name: string; ttlMs: number } } | null;
  rewrite: { replacePrefix: string | null; hostname: string | null } | null;
  timeouts: TimeoutsIR;
  retries: RetriesIR;
  websocket: { idleTimeoutMs: number; maxConnectionDurationMs: number };
  /** ids into PoolSnapshot.rateLimits, in evaluation order */
  rateLimits: string[];
  /** authentication, checked before rate limits; null = open route */
  auth: AuthIR | null;
  /** absent (snapshots from older compilers) = null */
  cors?: CorsIR | null;
  /** translate gRPC-Web requests to gRPC over h2c; absent = false */
  grpcWeb?: boolean;
}

/** A rule's `auth`, keys sorted, durations in ms, Secret references with their namespace. */
export interface AuthIR {
  external: ExternalAuthIR | null;
  jwt: JwtAuthIR | null;
}

export interface JwtAuthIR {
  /** lower-cased header names, each a claim copied upstream (inbound copies always removed) */
  claimToHeaders: { claim: string; header: string }[];
  forwardToken: boolean;
  issuer: string;
  /** [] = any audience */
  audiences: string[];
  /** exactly one of uri and secretRef */
  jwks: { cacheDurationMs: number; secretRef: (ObjectRef & { key: string }) | null; uri: string | null };
}

export interface ExternalAuthIR {
  failureMode: 'Open' | 'Closed';
  /** lower-cased request headers sent to the auth service */
  forwardHeaders: string[];
  /** lower-cased auth-response headers copied upstream on 2xx (inbound copies always removed) */
  responseHeaders: string[];
  timeoutMs: number;
  url: string;
}

export interface EndpointIR {
  address: string;
  port: number;
  /** zone/node hints, informational */
  zone: string | null;
}

export interface ClusterIR {
  /** `<namespace>/<service>:<port>` */
  name: string;
  service: ObjectRef;
  port: number;
  protocol: BackendProtocol;
  loadBalancer: {
    algorithm: LbAlgorithm;
    consistentHash: { header: string | null; cookie: string | null; clientIP: boolean };
  };
  healthCheck: {
    active: {
      path: string;
      intervalMs: number;
      timeoutMs: number;
      healthyThreshold: number;
      unhealthyThreshold: number;
      expectedStatuses: number[];
      /**
       * set: grpc.health.v1.Health/Check with this service name instead of GET path (H2C only).
       * The compiler always writes it; absent (snapshots from older compilers) means null.
       */
      grpc?: { service: string } | null;
    } | null;
    passive: { consecutiveErrors: number; baseEjectionTimeMs: number; maxEjectionPercent: number } | null;
  };
  /** ready endpoints only, sorted by address then port */
  endpoints: EndpointIR[];
  /** TLS (and mTLS with a client certificate) to every endpoint of this cluster; null = plaintext */
  tls: UpstreamTlsIR | null;
}

export interface UpstreamTlsIR {
  /** Secret with key ca.crt; null = the system's public CAs */
  caSecretRef: ObjectRef | null;
  /** kubernetes.io/tls Secret presented to the backend (mTLS); null = none */
  clientCertificateRef: ObjectRef | null;
  /** SNI and the name the backend's certificate must carry (default `<service>.<namespace>.svc`) */
  serverName: string;
}

export type RateLimitKeyPart =
  | { type: 'Header'; name: string }
  /** the API's one prefixLength read in the family it fits (see compiler/ratelimits.ts clientIPPrefixes) */
  | { type: 'ClientIP'; ipv4Prefix: number; ipv6Prefix: number }
  | { type: 'Route' }
  | { type: 'Path' }
  | { type: 'QueryParam'; name: string };

export interface RateLimitIR {
  /** `<namespace>/<policy>/<rule>` */
  id: string;
  policy: ObjectRef;
  mode: 'Local' | 'Global';
  shadow: boolean;
  responseHeaders: boolean;
  trustedHops: number;
  match: MatchIR | null;
  key: RateLimitKeyPart[];
  /** per replica for Local (already divided by ready replicas for SplitAcrossReplicas) */
  limit: { requests: number; periodMs: number; burst: number };
  cost: number;
  global: {
    redisSecretRef: { name: string; key: string; namespace: string };
    timeoutMs: number;
    failureMode: 'Open' | 'Closed';
  } | null;
}

export interface PoolSnapshot {
  apiVersion: typeof SNAPSHOT_API;
  /** `sha256:<hex>` of the canonical JSON of this object without `version` */
  version: string;
  pool: ObjectRef & { productLine: string };
  /** `auto` or an integer, resolved by the data plane from its cgroup CPU quota */
  workers: 'auto' | number;
  listener: ListenerIR;
  upstream: UpstreamConnIR;
  websocket: WebSocketIR;
  overload: OverloadIR;
  accessLog: { enabled: boolean; sampleRate: number };
  /** in precedence order: the data plane takes the first route whose host and match fit */
  routes: RouteIR[];
  /** sorted by name */
  clusters: ClusterIR[];
  /** sorted by id */
  rateLimits: RateLimitIR[];
}
