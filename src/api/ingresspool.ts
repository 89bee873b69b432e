// IngressPool: one isolated proxy deployment per product line. Field names are the public
// contract in shared/API.md; defaults here are the field-tested values the design calls for.

import { Type, type Static } from '@sinclair/typebox';
import {
  Block,
  Bool,
  Conditions,
  Duration,
  Enum,
  Int,
  IntOrString,
  Label,
  Name,
  Obj,
  Opt,
  Port,
  Str,
  StringMap,
  rules,
} from './kit.ts';
import { LocalRef, RETRY_ON, RETRY_ON_ALIAS_DOC } from './common.ts';
import { applyFieldDocs, INGRESS_POOL_SPEC_DOCS, INGRESS_POOL_STATUS_DOCS } from './field-docs.ts';

const Quantity = IntOrString({ pattern: '^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$' });
const ResourceList = Type.Optional(
  Type.Object(
    { cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) },
    { additionalProperties: false },
  ),
);

const Toleration = Obj({
  key: Type.Optional(Str(316)),
  operator: Type.Optional(Enum(['Exists', 'Equal'] as const)),
  value: Type.Optional(Str(63)),
  effect: Type.Optional(Enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const)),
  tolerationSeconds: Type.Optional(Type.Integer()),
});

const LabelSelector = Obj({
  matchLabels: Type.Optional(StringMap()),
  matchExpressions: Type.Optional(
    Type.Array(
      Obj({
        key: Str(316, { minLength: 1 }),
        operator: Enum(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const),
        values: Type.Optional(Type.Array(Str(63), { maxItems: 64 })),
      }),
      { maxItems: 16 },
    ),
  ),
});

const Autoscaling = rules(
  Obj(
    {
      minReplicas: Int(1, 1000, 2),
      maxReplicas: Int(1, 1000, 10),
      targetCPUUtilizationPercentage: Int(1, 100, 60),
      scaleDownStabilization: Duration('300s', 'scale-up stabilization is always 0'),
    },
    'HPA (autoscaling/v2). When set, replicas is ignored.',
  ),
  [
    {
      rule: 'self.minReplicas <= self.maxReplicas',
      message: 'minReplicas must not be greater than maxReplicas',
      fieldPath: '.minReplicas',
      check: (s) => s.minReplicas <= s.maxReplicas,
    },
  ],
);

const Deployment = rules(
  Obj(
    {
      mode: Enum(['Deployment', 'DaemonSet'] as const, 'Deployment'),
      hostNetwork: Bool(false, 'true only with mode DaemonSet'),
      image: Str(512, { default: '', description: "empty = the operator's own data-plane image" }),
      resources: Type.Optional(
        Obj({ requests: ResourceList, limits: ResourceList }, undefined, { default: {} }),
      ),
      nodeSelector: Type.Optional(StringMap()),
      tolerations: Type.Optional(Type.Array(Toleration, { maxItems: 32 })),
      workers: Type.Optional(
        IntOrString({
          default: 'auto',
          description: 'auto (from the container CPU limit) or a number of worker processes',
        }),
      ),
    },
    undefined,
    { default: {} },
  ),
  [
    {
      rule: "!has(self.hostNetwork) || !self.hostNetwork || (has(self.mode) && self.mode == 'DaemonSet')",
      message: 'hostNetwork requires mode DaemonSet',
      fieldPath: '.hostNetwork',
      check: (s) => !s.hostNetwork || s.mode === 'DaemonSet',
    },
    {
      rule: "!has(self.workers) || (type(self.workers) == int ? (int(self.workers) >= 1 && int(self.workers) <= 64) : string(self.workers) == 'auto')",
      message: "must be 'auto' or an integer from 1 to 64",
      fieldPath: '.workers',
      check: (s) =>
        s.workers === undefined ||
        s.workers === 'auto' ||
        (Number.isInteger(s.workers) && s.workers >= 1 && s.workers <= 64),
    },
  ],
);

const ConsistentHash = Obj(
  {
    header: Str(256, { default: '' }),
    cookie: Str(256, { default: '' }),
    clientIP: Bool(false),
  },
  undefined,
  { default: {} },
);

const LoadBalancer = rules(
  Obj(
    {
      algorithm: Enum(['PeakEWMA', 'LeastRequest', 'RoundRobin', 'ConsistentHash'] as const, 'PeakEWMA'),
      consistentHash: Type.Optional(ConsistentHash),
    },
    undefined,
    { default: {} },
  ),
  [
    {
      rule:
        "!has(self.algorithm) || self.algorithm != 'ConsistentHash' || (has(self.consistentHash) && " +
        "((has(self.consistentHash.header) && self.consistentHash.header != '') ? 1 : 0) + " +
        "((has(self.consistentHash.cookie) && self.consistentHash.cookie != '') ? 1 : 0) + " +
        '((has(self.consistentHash.clientIP) && self.consistentHash.clientIP) ? 1 : 0) == 1)',
      message:
        'ConsistentHash needs exactly one of consistentHash.header, consistentHash.cookie or consistentHash.clientIP',
      fieldPath: '.consistentHash',
      check: (s) => {
        if (s.algorithm !== 'ConsistentHash') return true;
        const c = s.consistentHash ?? {};
        return (c.header ? 1 : 0) + (c.cookie ? 1 : 0) + (c.clientIP ? 1 : 0) === 1;
      },
    },
  ],
);

const Tls = Opt(
  {
    port: Port(8443),
    certificates: Type.Array(Obj({ secretRef: LocalRef('kubernetes.io/tls Secret in the pool namespace') }), {
      minItems: 1,
      maxItems: 64,
    }),
    minVersion: Enum(['TLS1.2', 'TLS1.3'] as const, 'TLS1.2'),
    redirectHTTP: Bool(false),
    clientAuth: Opt({
      mode: Enum(['Optional', 'Required'] as const, 'Optional'),
      caSecretRef: LocalRef('Secret with key ca.crt'),
    }),
  },
  'HTTPS listener with ALPN h2 and http/1.1, certificates chosen by SNI (docs/EDGE-SECURITY.md)',
);

export const IngressPoolSpec = rules(
  Obj(
    {
      productLine: Label('label and metrics dimension'),
      replicas: Type.Optional(Int(0, 1000, 2, 'ignored when autoscaling is set')),
      autoscaling: Type.Optional(Autoscaling),
      deployment: Type.Optional(Deployment),
      service: Block({
        type: Enum(['LoadBalancer', 'NodePort', 'ClusterIP'] as const, 'LoadBalancer'),
        annotations: Type.Optional(StringMap()),
        externalTrafficPolicy: Enum(['Local', 'Cluster'] as const, 'Local'),
      }),
      listener: Block({
        port: Port(8080, 'HTTP/1.1 and h2c on the same port'),
        adminPort: Port(9901, '/healthz /readyz /metrics /config; probes use this port'),
        maxHeaderBytes: Int(1024, 1048576, 16384),
        backlog: Int(1, 1048576, 4096),
        mergeSlashes: Bool(false),
        tls: Tls,
      }),
      allowedRoutes: Block({
        namespaces: Block({
          from: Enum(['Same', 'All', 'Selector'] as const, 'Same'),
          selector: Type.Optional(LabelSelector),
        }),
      }),
      connections: Block({
        downstream: Block({
          keepAliveTimeout: Duration('75s'),
          maxRequestsPerConnection: Int(0, 10000000, 10000),
          requestHeaderTimeout: Duration('10s'),
        }),
        upstream: Block({
          maxIdlePerEndpoint: Int(1, 100000, 200),
          idleTimeout: Duration('100s'),
          maxRequestsPerConnection: Int(0, 10000000, 10000),
        }),
      }),
      timeouts: Block({
        connect: Duration('1s'),
        read: Duration('3s'),
        send: Duration('3s'),
        request: Duration('0s', '0s = no overall limit'),
      }),
      retries: Block({
        attempts: Int(0, 10, 0, 'off by default'),
        on: Type.Optional(
          Type.Array(Enum(RETRY_ON), {
            maxItems: 16,
            description:
              'connection conditions, HTTP statuses, and gRPC statuses (unavailable, cancelled, deadline-exceeded, resource-exhausted, internal) of trailers-only answers to gRPC requests',
            default: ['connect-failure', 'refused-stream', 'reset', 'unavailable'],
          }),
        ),
        true: Type.Optional(Type.Array(Enum(RETRY_ON), { maxItems: 16, description: RETRY_ON_ALIAS_DOC })),
        perTryTimeout: Duration('0s'),
        budgetPercent: Int(0, 100, 20, 'retries never exceed this share of active requests'),
        minRetriesPerSecond: Int(0, 10000, 3),
      }),
      loadBalancer: Type.Optional(LoadBalancer),
      healthCheck: Block({
        active: Opt(
          {
            path: Str(1024, { default: '/healthz', pattern: '^/' }),
            interval: Duration('1s'),
            timeout: Duration('1s'),
            healthyThreshold: Int(1, 100, 2),
            unhealthyThreshold: Int(1, 100, 2),
            expectedStatuses: Type.Optional(
              Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { maxItems: 32, default: [200] }),
            ),
            grpc: Opt(
              {
                service: Str(1024, {
                  default: '',
                  pattern: '^([A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)*)?$',
                  description: "the service name sent in the request; '' asks about the server as a whole",
                }),
              },
              'instead of path: grpc.health.v1.Health/Check for H2C backends (SERVING = healthy); HTTP/1.1 backends keep the path check',
            ),
          },
          'active checks are on when this block is present',
        ),
        passive: Block({
          consecutiveErrors: Int(1, 1000, 5),
          baseEjectionTime: Duration('30s'),
          maxEjectionPercent: Int(0, 100, 50),
        }),
      }),
      websocket: Block({
        enabled: Bool(true),
        idleTimeout: Duration('300s'),
        maxConnectionDuration: Duration('0s', '0s = unlimited'),
        maxConnections: Int(0, 10000000, 10000),
        drainPeriod: Duration('30s', 'on shutdown, then close 1001'),
        http2: Bool(false, 'RFC 8441 WebSocket over HTTP/2 (opt-in)'),
      }),
      overload: Block({
        maxConcurrentRequests: Int(1, 10000000, 10000),
        maxEventLoopDelay: Duration('200ms', 'shed with 503 + Retry-After above this'),
      }),
      kernel: Block({
        enabled: Bool(false, 'privileged init container'),
        somaxconn: Int(128, 1048576, 32768),
        ipLocalPortRange: Str(32, { default: '1024 65000', pattern: '^[0-9]{1,5} [0-9]{1,5}$' }),
        tcpTwReuse: Bool(true),
      }),
      accessLog: Block({
        enabled: Bool(true),
        sampleRate: Type.Number({ minimum: 0, maximum: 1, default: 1.0 }),
      }),
    },
    undefined,
  ),
  [
    {
      rule: "!has(self.allowedRoutes) || !has(self.allowedRoutes.namespaces) || !has(self.allowedRoutes.namespaces.from) || self.allowedRoutes.namespaces.from != 'Selector' || has(self.allowedRoutes.namespaces.selector)",
      message: 'from: Selector needs a selector',
      fieldPath: '.allowedRoutes.namespaces.selector',
      check: (s) =>
        s.allowedRoutes?.namespaces?.from !== 'Selector' || s.allowedRoutes.namespaces.selector !== undefined,
    },
    {
      rule: "!has(self.autoscaling) || !has(self.deployment) || !has(self.deployment.mode) || self.deployment.mode == 'Deployment'",
      message: 'autoscaling needs mode Deployment (a DaemonSet runs one replica per node)',
      fieldPath: '.autoscaling',
      check: (s) => s.autoscaling === undefined || s.deployment?.mode !== 'DaemonSet',
    },
    {
      rule: '!has(self.listener) || self.listener.port != self.listener.adminPort',
      message: 'adminPort must differ from port (probes never use the traffic port)',
      fieldPath: '.listener.adminPort',
      check: (s) => !s.listener || s.listener.port !== s.listener.adminPort,
    },
  ],
);

const Address = Obj({ type: Enum(['IPAddress', 'Hostname'] as const), value: Str(253) });

export const IngressPoolStatus = Obj({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions),
  readyReplicas: Type.Optional(Type.Integer({ minimum: 0 })),
  attachedRoutes: Type.Optional(Type.Integer({ minimum: 0 })),
  addresses: Type.Optional(Type.Array(Address, { maxItems: 16 })),
  configVersion: Type.Optional(Str(128)),
});

export type IngressPoolSpec = Static<typeof IngressPoolSpec>;
export type IngressPoolStatus = Static<typeof IngressPoolStatus>;
export { Name };

// `kubectl explain` text for the fields above that carry none inline (src/api/field-docs.ts)
export const UNDOCUMENTED_PATHS = [
  ...applyFieldDocs(IngressPoolSpec, INGRESS_POOL_SPEC_DOCS),
  ...applyFieldDocs(IngressPoolStatus, INGRESS_POOL_STATUS_DOCS),
];
