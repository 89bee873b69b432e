// RouteSplit: a team's routes attached to a pool (hosts, matches, weighted/canary backends,
// rewrites, per-route timeouts and retries). Lives in the team's namespace.

import { Type, type Static } from '@sinclair/typebox';
import { Bool, Conditions, Duration, Enum, Int, Name, Obj, Opt, Port, Str, rules } from './kit.ts';
import { HTTP_METHODS, LocalRef, Match, RetryOverrides, SecretKeyRef, TimeoutOverrides } from './common.ts';
import { applyFieldDocs, ROUTE_SPLIT_SPEC_DOCS, ROUTE_SPLIT_STATUS_DOCS } from './field-docs.ts';

const Hostname = Str(253, {
  minLength: 1,
  pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  description: 'exact host or a leading wildcard label (*.example.com)',
});

export const PoolRef = Obj(
  { name: Name(), namespace: Type.Optional(Name("defaults to the route's namespace")) },
  'the IngressPool this route attaches to',
);

const Backend = Obj({
  name: Name('a Service in the route namespace'),
  port: Port(),
  weight: Int(0, 1000000, 1),
  protocol: Enum(
    ['Auto', 'HTTP1', 'H2C'] as const,
    'Auto',
    "Auto: from the Service port's appProtocol (kubernetes.io/h2c → H2C)",
  ),
  tls: Opt(
    {
      serverName: Type.Optional(Str(253)),
      caSecretRef: Type.Optional(LocalRef('Secret with key ca.crt')),
      clientCertificateRef: Type.Optional(LocalRef('kubernetes.io/tls Secret for mTLS')),
    },
    'upstream TLS / mTLS to this backend (serverName defaults to <service>.<namespace>.svc)',
  ),
});

const Auth = Opt(
  {
    jwt: Opt({
      issuer: Str(1024, { minLength: 1 }),
      audiences: Type.Optional(Type.Array(Str(256), { maxItems: 16 })),
      jwks: Obj({
        uri: Type.Optional(Str(2048, { pattern: '^https?://' })),
        cacheDuration: Type.Optional(Duration('5m')),
        secretRef: Type.Optional(SecretKeyRef),
      }),
      claimToHeaders: Type.Optional(
        Type.Array(Obj({ claim: Str(256, { minLength: 1 }), header: Str(256, { minLength: 1 }) }), {
          maxItems: 16,
        }),
      ),
      forwardToken: Bool(true),
    }),
    external: Opt({
      url: Str(2048, { pattern: '^https?://' }),
      timeout: Duration('500ms'),
      forwardHeaders: Type.Optional(Type.Array(Str(256), { maxItems: 32 })),
      responseHeaders: Type.Optional(Type.Array(Str(256), { maxItems: 32 })),
      failureMode: Enum(['Open', 'Closed'] as const, 'Closed'),
    }),
  },
  'JWT and/or external auth, checked before rate limits and routing (docs/EDGE-SECURITY.md)',
);

const HeaderName = Str(256, { minLength: 1, pattern: "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$" });

/** `*`, an exact origin, or a wildcard-subdomain origin (`https://*.example.com`). */
export const CORS_ORIGIN_PATTERN =
  '^([*]|https?://([*][.])?[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?)$';

const Cors = rules(
  Obj(
    {
      allowOrigins: Type.Array(
        Str(512, {
          pattern: CORS_ORIGIN_PATTERN,
          description: 'exact (https://shop.example.com), wildcard subdomain (https://*.example.com) or *',
        }),
        { minItems: 1, maxItems: 64 },
      ),
      allowMethods: Type.Optional(Type.Array(Enum(HTTP_METHODS), { maxItems: 16 })),
      allowHeaders: Type.Optional(Type.Array(HeaderName, { maxItems: 64 })),
      exposeHeaders: Type.Optional(Type.Array(HeaderName, { maxItems: 64 })),
      maxAge: Type.Optional(Duration(undefined, 'how long browsers may cache a preflight answer')),
      allowCredentials: Bool(false),
    },
    'CORS for this rule: the gateway answers preflight requests and adds CORS headers to responses',
  ),
  [
    {
      rule: "!self.allowCredentials || !self.allowOrigins.exists(o, o == '*')",
      message: 'allowCredentials cannot be used with the origin * (browsers refuse it); list the origins',
      fieldPath: '.allowOrigins',
      check: (s) => !s.allowCredentials || !s.allowOrigins.includes('*'),
    },
  ],
);

export const Rule = rules(
  Obj({
    name: Type.Optional(Label('unique within the route; used by policies and metrics')),
    matches: Type.Optional(
      Type.Array(Match, { maxItems: 8, description: 'any one match selects the rule; empty = everything' }),
    ),
    backends: Type.Array(Backend, { minItems: 1, maxItems: 16 }),
    sessionAffinity: Opt({
      cookie: Obj({ name: Str(256, { minLength: 1, pattern: '^[^\\s;=,]+$' }), ttl: Duration('24h') }),
    }),
    rewrite: Opt({
      // both go verbatim into the upstream request line / Host header: no whitespace or control
      // characters, so no rewrite can split or bend the request
      replacePrefix: Type.Optional(Str(1024, { pattern: '^/[!-~]*$' })),
      hostname: Str(253, {
        default: '',
        pattern: '^$|^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?$',
      }),
    }),
    timeouts: TimeoutOverrides,
    retries: RetryOverrides,
    websocket: Opt({
      idleTimeout: Type.Optional(Duration()),
      maxConnectionDuration: Type.Optional(Duration()),
    }),
    auth: Auth,
    grpcWeb: Opt(
      { enabled: Bool(false) },
      'translate gRPC-Web (application/grpc-web[-text][+proto]) from HTTP/1.1 and h2 clients to gRPC upstream',
    ),
    cors: Type.Optional(Cors),
  }),
  [
    {
      rule: 'self.backends.exists(b, b.weight > 0)',
      message: 'at least one backend needs a weight above 0',
      fieldPath: '.backends',
      check: (s) => (s.backends ?? []).some((b: any) => (b.weight ?? 1) > 0),
    },
    {
      rule: "!has(self.rewrite) || !has(self.rewrite.replacePrefix) || (has(self.matches) && size(self.matches) > 0 && self.matches.all(m, has(m.path) && m.path.type == 'PathPrefix'))",
      message: 'replacePrefix needs every match of the rule to use a PathPrefix path',
      fieldPath: '.rewrite.replacePrefix',
      check: (s) =>
        s.rewrite?.replacePrefix === undefined ||
        ((s.matches ?? []).length > 0 && s.matches.every((m: any) => m.path?.type === 'PathPrefix')),
    },
  ],
);

function Label(description: string) {
  return Str(63, { minLength: 1, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description });
}

export const RouteSplitSpec = Obj({
  poolRef: PoolRef,
  hostnames: Type.Optional(Type.Array(Hostname, { maxItems: 16, description: 'empty = any host' })),
  rules: rules(Type.Array(Rule, { minItems: 1, maxItems: 64 }), [
    {
      rule: 'self.all(r, !has(r.name) || self.exists_one(x, has(x.name) && x.name == r.name))',
      message: 'rule names must be unique within the route',
      check: (s) => {
        const names = (s as any[]).map((r) => r.name).filter((n) => n !== undefined);
        return new Set(names).size === names.length;
      },
    },
  ]),
});

export const RouteParentStatus = Obj({
  poolRef: PoolRef,
  conditions: Type.Optional(Conditions),
});

export const RouteSplitStatus = Obj({
  conditions: Type.Optional({
    ...Conditions,
    description:
      "Aggregated over parents, for `kubectl wait --for=condition=Accepted`: Accepted is True when every parent pool accepted the route, else False with the first refusing parent's reason; ResolvedRefs is True when every backend resolved in every parent that reports it.",
  }),
  parents: Type.Optional(
    Type.Array(RouteParentStatus, {
      maxItems: 4,
      description: 'Per parent pool (spec.poolRef): its Accepted and ResolvedRefs conditions.',
    }),
  ),
});

export type RouteSplitSpec = Static<typeof RouteSplitSpec>;
export type RouteSplitRule = Static<typeof Rule>;
export type RouteSplitStatus = Static<typeof RouteSplitStatus>;

// `kubectl explain` text for the fields above that carry none inline (src/api/field-docs.ts)
export const UNDOCUMENTED_PATHS = [
  ...applyFieldDocs(RouteSplitSpec, ROUTE_SPLIT_SPEC_DOCS),
  ...applyFieldDocs(RouteSplitStatus, ROUTE_SPLIT_STATUS_DOCS),
];
