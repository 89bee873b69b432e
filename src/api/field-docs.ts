// Descriptions for the fields whose schema constructor carries none, so `kubectl explain
// ingresspool.spec...` answers for every field. Keyed by the field path under spec/status (`[]` for
// list items); applied once at module load to the TypeBox schemas, so the CRDs, the API reference and
// the offline validator all carry them. A description written inline in the schema wins; a path here
// that matches no field fails test/api/field-docs.test.ts.

import type { TSchema } from '@sinclair/typebox';

export type FieldDocs = Record<string, string>;

const SECRET_NAME = 'name of the Secret, in the same namespace as this object';

export const CONDITION_DOCS: FieldDocs = {
  type: 'condition type: Accepted, ResolvedRefs, Programmed or Ready',
  status: 'True, False or Unknown',
  reason: 'CamelCase reason for the last transition (a constant, for automation)',
  message: 'human-readable details: what is wrong, where, and what to do',
  lastTransitionTime: 'when status last changed',
  observedGeneration: 'the metadata.generation this condition was computed from',
};

export const INGRESS_POOL_SPEC_DOCS: FieldDocs = {
  autoscaling: 'HorizontalPodAutoscaler (autoscaling/v2) for the pool; when set, replicas is ignored',
  'autoscaling.minReplicas': 'lowest number of data-plane pods',
  'autoscaling.maxReplicas': 'highest number of data-plane pods',
  'autoscaling.targetCPUUtilizationPercentage': 'average CPU use (percent of requests) the HPA keeps',
  deployment: 'how the data-plane pods run: workload kind, image, resources, placement',
  'deployment.mode': 'Deployment (replicas or autoscaling) or DaemonSet (one pod per selected node)',
  'deployment.resources': 'container resource requests and limits; workers: auto follows limits.cpu',
  'deployment.resources.requests': 'resources the scheduler reserves',
  'deployment.resources.requests.cpu': 'CPU quantity, e.g. 500m',
  'deployment.resources.requests.memory': 'memory quantity, e.g. 256Mi',
  'deployment.resources.limits': 'resource ceilings enforced by the kubelet',
  'deployment.resources.limits.cpu': 'CPU quantity, e.g. "2"; sets the worker count when workers is auto',
  'deployment.resources.limits.memory': 'memory quantity, e.g. 1Gi',
  'deployment.nodeSelector': 'node labels the pods must match',
  'deployment.tolerations': 'taints the pods tolerate (core/v1 Toleration)',
  'deployment.tolerations[].key': 'taint key; empty with operator Exists matches every taint',
  'deployment.tolerations[].operator': 'Exists or Equal',
  'deployment.tolerations[].value': 'taint value (with operator Equal)',
  'deployment.tolerations[].effect': 'NoSchedule, PreferNoSchedule or NoExecute; empty matches all',
  'deployment.tolerations[].tolerationSeconds': 'how long a NoExecute taint is tolerated',
  service: 'the Service in front of the data plane (ignored for hostNetwork)',
  'service.type': 'LoadBalancer, NodePort or ClusterIP',
  'service.annotations': "annotations for the Service (for example the cloud load balancer's settings)",
  'service.externalTrafficPolicy': 'Local keeps client source addresses; Cluster spreads over all nodes',
  listener: 'ports and limits of the data-plane listener',
  'listener.maxHeaderBytes': 'largest request header block accepted; larger gets 431',
  'listener.backlog': 'listen(2) backlog of the data port',
  'listener.mergeSlashes':
    'path normalisation also merges runs of "/" ("//a" routes as "/a"); dot segments and unreserved escapes are always normalised',
  'listener.tls': 'HTTPS listener (ALPN h2 and http/1.1) besides the plaintext port',
  'listener.tls.port': 'HTTPS port',
  'listener.tls.certificates': 'kubernetes.io/tls Secrets, chosen by SNI',
  'listener.tls.certificates[].secretRef.name': SECRET_NAME,
  'listener.tls.minVersion': 'TLS1.2 or TLS1.3',
  'listener.tls.redirectHTTP': 'answer plaintext requests with 308 to HTTPS',
  'listener.tls.clientAuth': 'client certificates',
  'listener.tls.clientAuth.mode': 'Optional (verify when sent) or Required',
  'listener.tls.clientAuth.caSecretRef.name': SECRET_NAME,
  allowedRoutes: 'which RouteSplits may attach to this pool',
  'allowedRoutes.namespaces': 'namespaces whose RouteSplits may attach',
  'allowedRoutes.namespaces.from': "Same (the pool's namespace), All, or Selector",
  'allowedRoutes.namespaces.selector': 'namespace label selector, with from: Selector',
  'allowedRoutes.namespaces.selector.matchLabels': 'labels the namespace must have',
  'allowedRoutes.namespaces.selector.matchExpressions': 'label requirements, all of which must hold',
  'allowedRoutes.namespaces.selector.matchExpressions[].key': 'label key',
  'allowedRoutes.namespaces.selector.matchExpressions[].operator': 'In, NotIn, Exists or DoesNotExist',
  'allowedRoutes.namespaces.selector.matchExpressions[].values': 'values for In and NotIn',
  connections: 'client-side (downstream) and backend-side (upstream) connection limits',
  'connections.downstream': 'client connections',
  'connections.downstream.keepAliveTimeout': 'idle time before an idle client connection is closed',
  'connections.downstream.maxRequestsPerConnection':
    'requests served on one client connection (0 = unlimited)',
  'connections.downstream.requestHeaderTimeout': 'time a client has to send the request headers',
  'connections.upstream': 'backend connection pools',
  'connections.upstream.maxIdlePerEndpoint': 'idle keep-alive connections kept per backend endpoint',
  'connections.upstream.idleTimeout': 'idle time before a backend connection is closed',
  'connections.upstream.maxRequestsPerConnection': 'requests sent on one backend connection (0 = unlimited)',
  timeouts: 'pool-wide backend timeouts; a RouteSplit rule may override them',
  'timeouts.connect': 'time to open a backend connection',
  'timeouts.read': 'longest wait for backend bytes (headers or body)',
  'timeouts.send': 'longest wait while sending the request to the backend',
  retries: 'pool-wide retry policy; a RouteSplit rule may override it',
  'retries.on': 'failures that are retried',
  'retries.perTryTimeout': 'timeout of each attempt (0s = the request timeouts only)',
  'retries.minRetriesPerSecond': 'retries always allowed per second, whatever the budget',
  loadBalancer: 'how a backend endpoint is picked',
  'loadBalancer.algorithm': 'PeakEWMA, LeastRequest, RoundRobin or ConsistentHash',
  'loadBalancer.consistentHash':
    'the hash key, exactly one of header, cookie, clientIP (with ConsistentHash)',
  'loadBalancer.consistentHash.header': 'hash on this request header',
  'loadBalancer.consistentHash.cookie': 'hash on this cookie',
  'loadBalancer.consistentHash.clientIP': "hash on the client's address",
  healthCheck: 'active probes and passive outlier ejection of backend endpoints',
  'healthCheck.active.path': 'HTTP path probed',
  'healthCheck.active.interval': 'time between probes of one endpoint',
  'healthCheck.active.timeout': 'time a probe may take',
  'healthCheck.active.healthyThreshold': 'consecutive successes before an endpoint is healthy again',
  'healthCheck.active.unhealthyThreshold': 'consecutive failures before an endpoint is unhealthy',
  'healthCheck.active.expectedStatuses': 'HTTP statuses counted as success',
  'healthCheck.passive': 'eject endpoints that fail real requests',
  'healthCheck.passive.consecutiveErrors': 'consecutive 5xx or connect failures before ejection',
  'healthCheck.passive.baseEjectionTime': 'first ejection length; doubles with each repeat',
  'healthCheck.passive.maxEjectionPercent': 'at most this share of a backend is ejected at once',
  websocket: 'WebSocket upgrades through the pool',
  'websocket.enabled': 'allow WebSocket upgrades',
  'websocket.idleTimeout': 'idle time before a tunnel is closed',
  'websocket.maxConnections': 'open tunnels per data-plane pod; more are refused with 503',
  overload: 'load shedding, so an overloaded pod answers 503 instead of timing out',
  'overload.maxConcurrentRequests': 'in-flight requests per pod before new ones are shed',
  kernel: 'sysctls set by a privileged init container (opt-in with enabled)',
  'kernel.somaxconn': 'net.core.somaxconn',
  'kernel.ipLocalPortRange': 'net.ipv4.ip_local_port_range, "<low> <high>"',
  'kernel.tcpTwReuse': 'net.ipv4.tcp_tw_reuse',
  accessLog: 'one JSON access line per request on the data plane stdout',
  'accessLog.enabled': 'write access lines',
  'accessLog.sampleRate': 'share of requests logged, 0 to 1',
};

export const INGRESS_POOL_STATUS_DOCS: FieldDocs = {
  observedGeneration: 'the metadata.generation the operator last processed',
  conditions:
    'Accepted (the spec is valid and enforced), Programmed (every connected data plane serves configVersion), Ready',
  readyReplicas: 'data-plane pods that are ready',
  attachedRoutes: 'RouteSplits accepted on this pool',
  addresses: "where clients reach the pool (the Service's load balancer or node addresses)",
  'addresses[].type': 'IPAddress or Hostname',
  'addresses[].value': 'the address',
  configVersion: 'content hash of the snapshot compiled for this pool',
};

export const ROUTE_SPLIT_SPEC_DOCS: FieldDocs = {
  'poolRef.name': 'name of the IngressPool',
  rules:
    'routing rules, 1 to 64; inside a pool, exact paths beat longer prefixes beat regexes, then more conditions win',
  'rules[].matches[].path.type':
    'Exact, PathPrefix or RegularExpression (the safe engine: no backreferences or lookaround)',
  'rules[].matches[].path.value': 'the path, starting with /',
  'rules[].matches[].method': 'HTTP method, e.g. GET',
  'rules[].matches[].headers': 'request headers that must all match',
  'rules[].matches[].headers[].name': 'header name (case-insensitive)',
  'rules[].matches[].headers[].type': 'Exact or RegularExpression',
  'rules[].matches[].headers[].value': 'value or pattern',
  'rules[].matches[].cookies': 'cookies that must all be present with these values',
  'rules[].matches[].cookies[].name': 'cookie name',
  'rules[].matches[].cookies[].value': 'exact cookie value',
  'rules[].matches[].queryParams': 'query parameters that must all match',
  'rules[].matches[].queryParams[].name': 'parameter name (case-sensitive)',
  'rules[].matches[].queryParams[].type': 'Exact or RegularExpression',
  'rules[].matches[].queryParams[].value': 'value or pattern',
  'rules[].matches[].grpc.type':
    'Exact: service and method are names; RegularExpression: safe-engine patterns for each (whole-name match)',
  'rules[].grpcWeb.enabled':
    'answer gRPC-Web (binary and text) from browsers by translating to gRPC over h2c (H2C backends only)',
  'rules[].cors.allowOrigins': 'origins allowed to call this rule from a browser',
  'rules[].cors.allowMethods': 'methods a preflight may ask for (default: the request method asked)',
  'rules[].cors.allowHeaders': 'request headers a preflight may ask for',
  'rules[].cors.exposeHeaders':
    'response headers the browser lets scripts read (grpc-status, grpc-message, ...)',
  'rules[].cors.allowCredentials': 'allow cookies and credentials (the origin is then echoed, never *)',
  'rules[].backends': 'Services that receive the matched traffic, 1 to 16, split by weight',
  'rules[].backends[].port': 'Service port number',
  'rules[].backends[].weight': 'relative share of requests (1 by default); 0 sends none',
  'rules[].backends[].tls.serverName': 'SNI and the name the backend certificate must carry',
  'rules[].backends[].tls.caSecretRef.name': 'Secret with key ca.crt that signs the backend certificate',
  'rules[].backends[].tls.clientCertificateRef.name':
    'kubernetes.io/tls Secret presented to the backend (mTLS)',
  'rules[].sessionAffinity': 'sticky weighted split: a client keeps the backend it was given',
  'rules[].sessionAffinity.cookie': 'the cookie that pins the backend',
  'rules[].sessionAffinity.cookie.name': 'cookie name',
  'rules[].sessionAffinity.cookie.ttl': 'cookie lifetime',
  'rules[].rewrite': 'request rewrites before forwarding',
  'rules[].rewrite.replacePrefix': 'replaces the matched PathPrefix',
  'rules[].rewrite.hostname': 'replaces the Host header (empty = keep)',
  'rules[].timeouts': "overrides the pool's timeouts for this rule",
  'rules[].retries': "overrides the pool's retry policy for this rule",
  'rules[].retries.attempts': 'retries after the first try (0 = off)',
  'rules[].retries.on': 'failures that are retried',
  'rules[].retries.perTryTimeout': 'timeout of each attempt (0s = the request timeouts only)',
  'rules[].retries.budgetPercent': 'retries never exceed this share of active requests',
  'rules[].retries.minRetriesPerSecond': 'retries always allowed per second, whatever the budget',
  'rules[].websocket': "overrides the pool's WebSocket limits for this rule",
  'rules[].websocket.idleTimeout': 'idle time before a tunnel is closed',
  'rules[].websocket.maxConnectionDuration': 'longest life of a tunnel (0s = unlimited)',
  'rules[].auth.jwt': 'require a valid JWT (Authorization: Bearer)',
  'rules[].auth.jwt.issuer': 'required iss claim',
  'rules[].auth.jwt.audiences': 'accepted aud values (one must match)',
  'rules[].auth.jwt.jwks': 'the signing keys: a uri, or a Secret',
  'rules[].auth.jwt.jwks.uri': 'JWKS URL, fetched and cached',
  'rules[].auth.jwt.jwks.cacheDuration': 'how long fetched keys are kept',
  'rules[].auth.jwt.jwks.secretRef': 'Secret key holding a JWKS document',
  'rules[].auth.jwt.jwks.secretRef.name': SECRET_NAME,
  'rules[].auth.jwt.jwks.secretRef.key': 'key in the Secret',
  'rules[].auth.jwt.claimToHeaders': 'copy claims into upstream request headers',
  'rules[].auth.jwt.claimToHeaders[].claim': 'claim name',
  'rules[].auth.jwt.claimToHeaders[].header': 'request header to set',
  'rules[].auth.jwt.forwardToken': 'keep the Authorization header on the upstream request',
  'rules[].auth.external': 'ask an HTTP service; a 2xx answer allows the request',
  'rules[].auth.external.url': 'URL of the auth service',
  'rules[].auth.external.timeout': 'time the auth service may take',
  'rules[].auth.external.forwardHeaders': 'request headers sent to the auth service',
  'rules[].auth.external.responseHeaders': 'auth response headers copied to the upstream request',
  'rules[].auth.external.failureMode': 'Open (allow) or Closed (deny) when the auth service fails',
};

export const ROUTE_SPLIT_STATUS_DOCS: FieldDocs = {
  'parents[].poolRef.name': 'name of the IngressPool',
  'parents[].conditions':
    'Accepted (PoolNotFound, NotAllowedByPool, Conflict, Invalid, PartiallyInvalid) and ResolvedRefs (BackendNotFound, PortNotFound) for this pool',
};

export const RATE_LIMIT_POLICY_SPEC_DOCS: FieldDocs = {
  targetRef: 'what is limited: a RouteSplit (optionally one rule) or an IngressPool, in this namespace',
  'targetRef.kind': 'RouteSplit or IngressPool',
  'targetRef.name': 'name of the target',
  'targetRef.rule': "a RouteSplit rule's name; empty = every rule of the route",
  mode: 'Local (counters in each data-plane pod) or Global (shared counters in Redis)',
  global: 'the shared counter store, required with mode Global',
  'global.redis': 'the Redis server',
  'global.redis.secretRef': 'Secret key holding a redis:// URL',
  'global.redis.secretRef.name': SECRET_NAME,
  'global.redis.secretRef.key': 'key in the Secret',
  'global.timeout': 'time a Redis call may take before failureMode applies',
  'global.failureMode': 'Open (allow) or Closed (deny with 429) when Redis fails',
  responseHeaders: 'send RateLimit-* headers on allowed responses too',
  clientIP: 'how the client address for ClientIP keys is found',
  'clientIP.trustedHops': 'X-Forwarded-For hops to trust (0 = the peer address)',
  rules: 'limits, 1 to 16; a request is counted by every rule that matches it',
  'rules[].name': 'rule name, in metrics and logs',
  'rules[].match.path.type':
    'Exact, PathPrefix or RegularExpression (the safe engine: no backreferences or lookaround)',
  'rules[].match.path.value': 'the path, starting with /',
  'rules[].match.method': 'HTTP method, e.g. GET',
  'rules[].match.headers': 'request headers that must all match',
  'rules[].match.headers[].name': 'header name (case-insensitive)',
  'rules[].match.headers[].type': 'Exact or RegularExpression',
  'rules[].match.headers[].value': 'value or pattern',
  'rules[].match.cookies': 'cookies that must all be present with these values',
  'rules[].match.cookies[].name': 'cookie name',
  'rules[].match.cookies[].value': 'exact cookie value',
  'rules[].match.queryParams': 'query parameters that must all match',
  'rules[].match.queryParams[].name': 'parameter name (case-sensitive)',
  'rules[].match.queryParams[].type': 'Exact or RegularExpression',
  'rules[].match.queryParams[].value': 'value or pattern',
  'rules[].key[].type': 'Header, ClientIP, Route, Path or QueryParam',
  'rules[].key[].name': 'header or query parameter name',
  'rules[].key[].prefixLength': 'ClientIP mask length (IPv4 up to 32, IPv6 up to 128)',
  'rules[].limit': 'token bucket: requests per period, plus burst',
  'rules[].limit.requests': 'requests allowed per period',
  'rules[].limit.burst': 'extra requests allowed at once above the steady rate',
  'rules[].cost': 'tokens one request takes',
};

export const RATE_LIMIT_POLICY_STATUS_DOCS: FieldDocs = {
  conditions:
    'Accepted (TargetNotFound, Conflict, Invalid): True only where the data plane enforces the policy',
};

/** the schema node at `path` (dots between fields, `[]` for list items), or undefined */
export function schemaAt(root: TSchema, path: string): TSchema | undefined {
  let node: any = root;
  for (const part of path.split('.')) {
    const [name, ...items] = part.split('[]');
    node = node?.properties?.[name!];
    for (let i = 0; i < items.length; i++) node = node?.items;
    if (node === undefined) return undefined;
  }
  return node;
}

/** fills in missing descriptions; returns the paths that match no field */
export function applyFieldDocs(root: TSchema, docs: FieldDocs): string[] {
  const unknown: string[] = [];
  for (const [path, text] of Object.entries(docs)) {
    const node = schemaAt(root, path) as { description?: string } | undefined;
    if (node === undefined) unknown.push(path);
    else node.description ??= text;
  }
  return unknown;
}
