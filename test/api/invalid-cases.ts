// Invalid objects shared by the offline validator test and the API-server test: each must be
// rejected, and the problem must name this field path.

const pool = (spec: object) => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'IngressPool',
  metadata: { name: 'bad-pool', namespace: 'team-a' },
  spec: { productLine: 'shop', ...spec },
});
const route = (rule: object, extra: object = {}) => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'RouteSplit',
  metadata: { name: 'bad-route', namespace: 'team-a' },
  spec: {
    poolRef: { name: 'shop' },
    rules: [{ backends: [{ name: 'svc', port: 8080 }], ...rule }],
    ...extra,
  },
});
const policy = (spec: object) => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'RateLimitPolicy',
  metadata: { name: 'bad-policy', namespace: 'team-a' },
  spec: {
    targetRef: { kind: 'RouteSplit', name: 'shop' },
    rules: [{ name: 'r', limit: { requests: 10, period: '1s' } }],
    ...spec,
  },
});

export interface InvalidCase {
  title: string;
  object: any;
  /** the field path the problem must be reported on */
  path: string;
  /** a fragment of the message */
  message: RegExp;
  /** false when only the webhook/compiler (not schema+CEL) can catch it */
  apiServer?: boolean;
}

export const INVALID_CASES: InvalidCase[] = [
  {
    title: 'unknown enum value',
    object: pool({ loadBalancer: { algorithm: 'Random' } }),
    path: 'spec.loadBalancer.algorithm',
    message: /must be one of/,
  },
  {
    title: 'negative weight',
    object: route({
      backends: [
        { name: 'a', port: 80, weight: -1 },
        { name: 'b', port: 80, weight: 5 },
      ],
    }),
    path: 'spec.rules[0].backends[0].weight',
    message: />= 0/,
  },
  {
    title: 'all weights zero',
    object: route({ backends: [{ name: 'a', port: 80, weight: 0 }] }),
    path: 'spec.rules[0].backends',
    message: /weight above 0/,
  },
  {
    title: 'minReplicas above maxReplicas',
    object: pool({ autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
    path: 'spec.autoscaling.minReplicas',
    message: /must not be greater than maxReplicas/,
  },
  {
    title: 'bad duration',
    object: pool({ timeouts: { read: '3 seconds' } }),
    path: 'spec.timeouts.read',
    message: /must be a duration/,
  },
  {
    title: 'regex without the regex type',
    object: route({ matches: [{ path: { type: 'PathPrefix', value: '/api/.*' } }] }),
    path: 'spec.rules[0].matches[0].path.value',
    message: /set type: RegularExpression/,
  },
  {
    title: 'missing poolRef',
    object: { ...route({}), spec: { rules: [{ backends: [{ name: 'svc', port: 80 }] }] } },
    path: 'spec.poolRef',
    message: /is required/,
  },
  {
    title: 'wrong apiVersion',
    object: { ...pool({}), apiVersion: 'bulkhead.dev/v1' },
    path: 'apiVersion',
    message: /must be bulkhead.dev\/v1alpha1/,
    apiServer: false,
  },
  {
    title: 'hostNetwork with a Deployment',
    object: pool({ deployment: { mode: 'Deployment', hostNetwork: true } }),
    path: 'spec.deployment.hostNetwork',
    message: /requires mode DaemonSet/,
  },
  {
    title: 'ConsistentHash without a key source',
    object: pool({ loadBalancer: { algorithm: 'ConsistentHash' } }),
    path: 'spec.loadBalancer.consistentHash',
    message: /exactly one of/,
  },
  {
    title: 'ConsistentHash with two key sources',
    object: pool({
      loadBalancer: { algorithm: 'ConsistentHash', consistentHash: { header: 'x-user', clientIP: true } },
    }),
    path: 'spec.loadBalancer.consistentHash',
    message: /exactly one of/,
  },
  {
    title: 'port out of range',
    object: pool({ listener: { port: 70000 } }),
    path: 'spec.listener.port',
    message: /<= 65535/,
  },
  {
    title: 'unknown field',
    object: pool({ listner: { port: 80 } }),
    path: 'spec.listner',
    message: /unknown field/,
  },
  {
    title: 'no backends',
    object: route({ backends: [] }),
    path: 'spec.rules[0].backends',
    message: /at least 1 item/,
  },
  {
    title: 'duplicate rule names',
    object: {
      ...route({}),
      spec: {
        poolRef: { name: 'shop' },
        rules: [
          { name: 'a', backends: [{ name: 's', port: 80 }] },
          { name: 'a', backends: [{ name: 's', port: 80 }] },
        ],
      },
    },
    path: 'spec.rules',
    message: /unique/,
  },
  {
    title: 'replacePrefix without a PathPrefix match',
    object: route({ matches: [{ path: { type: 'Exact', value: '/a' } }], rewrite: { replacePrefix: '/' } }),
    path: 'spec.rules[0].rewrite.replacePrefix',
    message: /PathPrefix/,
  },
  {
    title: 'Global mode without redis',
    object: policy({ mode: 'Global' }),
    path: 'spec.global',
    message: /needs global.redis/,
  },
  {
    title: 'Header key part without a name',
    object: policy({
      rules: [{ name: 'r', key: [{ type: 'Header' }], limit: { requests: 1, period: '1s' } }],
    }),
    path: 'spec.rules[0].key[0].name',
    message: /name is required/,
  },
  {
    title: 'rule on an IngressPool target',
    object: policy({ targetRef: { kind: 'IngressPool', name: 'p', rule: 'x' } }),
    path: 'spec.targetRef.rule',
    message: /only allowed when targeting a RouteSplit/,
  },
  {
    title: 'workers neither auto nor a count',
    object: pool({ deployment: { workers: 'many' } }),
    path: 'spec.deployment.workers',
    message: /'auto' or an integer/,
  },
  {
    title: 'unsafe regular expression (backreference)',
    object: route({ matches: [{ path: { type: 'RegularExpression', value: '/(a)\\1' } }] }),
    path: 'spec.rules[0].matches[0].path.value',
    message: /not a supported regular expression/,
    apiServer: false,
  },
  {
    title: 'missing productLine',
    object: { ...pool({}), spec: { replicas: 2 } },
    path: 'spec.productLine',
    message: /is required/,
  },
  {
    title: 'Selector without a selector',
    object: pool({ allowedRoutes: { namespaces: { from: 'Selector' } } }),
    path: 'spec.allowedRoutes.namespaces.selector',
    message: /needs a selector/,
  },
  {
    title: 'admin port equal to the traffic port',
    object: pool({ listener: { port: 8080, adminPort: 8080 } }),
    path: 'spec.listener.adminPort',
    message: /must differ/,
  },
  {
    title: 'pool name too long for its workload names',
    object: { ...pool({}), metadata: { name: 'a'.repeat(49), namespace: 'team-a' } },
    path: 'metadata.name',
    message: /limited to 48 characters/,
  },
  {
    title: 'autoscaling with a DaemonSet',
    object: pool({ autoscaling: { minReplicas: 2, maxReplicas: 4 }, deployment: { mode: 'DaemonSet' } }),
    path: 'spec.autoscaling',
    message: /needs mode Deployment/,
  },
  {
    title: 'grpc match without service and method',
    object: route({ matches: [{ grpc: { type: 'Exact' } }] }),
    path: 'spec.rules[0].matches[0].grpc',
    message: /set service, method or both/,
  },
  {
    title: 'grpc Exact service that is not a service name',
    object: route({ matches: [{ grpc: { service: 'grpc.testing/TestService', method: 'UnaryCall' } }] }),
    path: 'spec.rules[0].matches[0].grpc.service',
    message: /fully-qualified service name/,
  },
  {
    title: 'grpc Exact method that is not a method name',
    object: route({ matches: [{ grpc: { method: 'Unary-Call' } }] }),
    path: 'spec.rules[0].matches[0].grpc.method',
    message: /method name/,
  },
  {
    title: 'grpc regex with anchors',
    object: route({ matches: [{ grpc: { type: 'RegularExpression', service: '^grpc\\..*$' } }] }),
    path: 'spec.rules[0].matches[0].grpc.service',
    message: /leave out \^, \$ and \//,
  },
  {
    title: 'grpc regex the safe engine refuses',
    object: route({ matches: [{ grpc: { type: 'RegularExpression', method: '(Unary)\\1' } }] }),
    path: 'spec.rules[0].matches[0].grpc.method',
    message: /not a supported regular expression/,
    apiServer: false,
  },
  {
    title: 'match with both path and grpc',
    object: route({ matches: [{ path: { value: '/a' }, grpc: { service: 'a.B' } }] }),
    path: 'spec.rules[0].matches[0].grpc',
    message: /either path or grpc/,
  },
  {
    title: 'cors credentials with the origin *',
    object: route({ cors: { allowOrigins: ['*'], allowCredentials: true } }),
    path: 'spec.rules[0].cors.allowOrigins',
    message: /allowCredentials cannot be used with the origin \*/,
  },
  {
    title: 'cors origin that is not an origin',
    object: route({ cors: { allowOrigins: ['shop.example.com/app'] } }),
    path: 'spec.rules[0].cors.allowOrigins[0]',
    message: /must match/,
  },
  {
    title: 'grpc health check service that is not a service name',
    object: pool({ healthCheck: { active: { grpc: { service: 'grpc health' } } } }),
    path: 'spec.healthCheck.active.grpc.service',
    message: /must match/,
  },
  {
    title: 'rewrite.hostname with a line break (would split the upstream request)',
    object: route({ rewrite: { hostname: 'a.example\r\nx-admin: 1' } }),
    path: 'spec.rules[0].rewrite.hostname',
    message: /must match/,
  },
  {
    title: 'rewrite.replacePrefix with a space (would bend the request line)',
    object: route({
      matches: [{ path: { type: 'PathPrefix', value: '/a' } }],
      rewrite: { replacePrefix: '/b HTTP/1.1' },
    }),
    path: 'spec.rules[0].rewrite.replacePrefix',
    message: /must match/,
  },
  {
    title: 'bad hostname',
    object: route({}, { hostnames: ['Shop_Example.com'] }),
    path: 'spec.hostnames[0]',
    message: /must match/,
  },
];
