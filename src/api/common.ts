// Shapes used by more than one kind: matches, timeouts, retries, references.

import { Type } from '@sinclair/typebox';
import { Bool, Duration, Enum, Int, Name, Obj, Opt, Str, rules } from './kit.ts';

export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
] as const;
export const RETRY_ON = [
  'connect-failure',
  'refused-stream',
  'reset',
  'unavailable',
  '502',
  '503',
  '504',
  'gateway-error',
  // gRPC statuses of a trailers-only answer; they apply to gRPC requests only
  'cancelled',
  'deadline-exceeded',
  'resource-exhausted',
  'internal',
] as const;

/** Characters that only make sense in a regular expression; a plain path containing them is a mistake. */
const REGEX_META = /[*^$[\]|\\(){}?]/;

export const PathMatch = rules(
  Obj(
    {
      type: Enum(['Exact', 'PathPrefix', 'RegularExpression'] as const, 'PathPrefix'),
      value: Str(1024, { minLength: 1, default: '/' }),
    },
    'Request path condition. Exact and PathPrefix values are plain absolute paths; RegularExpression values must match the whole path.',
  ),
  [
    {
      rule: "self.type == 'RegularExpression' || self.value.startsWith('/')",
      message: 'must be an absolute path starting with / for Exact and PathPrefix',
      fieldPath: '.value',
      check: (s) => s.type === 'RegularExpression' || String(s.value).startsWith('/'),
    },
    {
      rule: "self.type == 'RegularExpression' || !self.value.matches('[*^$\\\\[\\\\]|\\\\\\\\(){}?]')",
      message: 'looks like a regular expression; set type: RegularExpression to use one',
      fieldPath: '.value',
      check: (s) => s.type === 'RegularExpression' || !REGEX_META.test(String(s.value)),
    },
  ],
);

const HeaderName = Str(256, { minLength: 1, pattern: "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$" });

export const HeaderMatch = Obj({
  name: HeaderName,
  type: Enum(['Exact', 'RegularExpression'] as const, 'Exact'),
  value: Str(4096),
});

export const CookieMatch = Obj({
  name: Str(256, { minLength: 1, pattern: '^[^\\s;=,]+$' }),
  value: Str(4096),
});

export const QueryParamMatch = Obj({
  name: Str(256, { minLength: 1 }),
  type: Enum(['Exact', 'RegularExpression'] as const, 'Exact'),
  value: Str(4096),
});

/** Fully-qualified protobuf service name (`grpc.testing.TestService`) and method name (`UnaryCall`). */
export const GRPC_SERVICE_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)*$';
export const GRPC_METHOD_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

export const GrpcMatch = rules(
  Obj(
    {
      type: Enum(['Exact', 'RegularExpression'] as const, 'Exact'),
      service: Type.Optional(Str(256, { minLength: 1, description: 'omitted = any service' })),
      method: Type.Optional(Str(256, { minLength: 1, description: 'omitted = any method' })),
    },
    'gRPC call condition on the request path /<service>/<method>. RegularExpression values must match the whole name (no anchors).',
  ),
  [
    {
      rule: 'has(self.service) || has(self.method)',
      message: 'set service, method or both',
      check: (s) => s.service !== undefined || s.method !== undefined,
    },
    {
      rule: `self.type != 'Exact' || !has(self.service) || self.service.matches('${GRPC_SERVICE_PATTERN}')`,
      message: 'must be a fully-qualified service name like grpc.testing.TestService',
      fieldPath: '.service',
      check: (s) =>
        s.type !== 'Exact' || s.service === undefined || new RegExp(GRPC_SERVICE_PATTERN).test(s.service),
    },
    {
      rule: `self.type != 'Exact' || !has(self.method) || self.method.matches('${GRPC_METHOD_PATTERN}')`,
      message: 'must be a method name like UnaryCall (letters, digits and _)',
      fieldPath: '.method',
      check: (s) =>
        s.type !== 'Exact' || s.method === undefined || new RegExp(GRPC_METHOD_PATTERN).test(s.method),
    },
    {
      rule: "self.type != 'RegularExpression' || !has(self.service) || (!self.service.startsWith('^') && !self.service.endsWith('$') && !self.service.contains('/'))",
      message: 'the pattern must match the whole service name: leave out ^, $ and /',
      fieldPath: '.service',
      check: (s) =>
        s.type !== 'RegularExpression' || s.service === undefined || !/^\^|\$$|\//.test(s.service),
    },
    {
      rule: "self.type != 'RegularExpression' || !has(self.method) || (!self.method.startsWith('^') && !self.method.endsWith('$') && !self.method.contains('/'))",
      message: 'the pattern must match the whole method name: leave out ^, $ and /',
      fieldPath: '.method',
      check: (s) => s.type !== 'RegularExpression' || s.method === undefined || !/^\^|\$$|\//.test(s.method),
    },
  ],
);

export const Match = rules(
  Obj(
    {
      path: Type.Optional(PathMatch),
      grpc: Type.Optional(GrpcMatch),
      method: Type.Optional(Enum(HTTP_METHODS)),
      headers: Type.Optional(Type.Array(HeaderMatch, { maxItems: 16 })),
      cookies: Type.Optional(Type.Array(CookieMatch, { maxItems: 16 })),
      queryParams: Type.Optional(Type.Array(QueryParamMatch, { maxItems: 16 })),
    },
    'All conditions of one match must hold.',
  ),
  [
    {
      rule: '!has(self.path) || !has(self.grpc)',
      message: 'a match has either path or grpc (a gRPC call is the path /<service>/<method>)',
      fieldPath: '.grpc',
      check: (s) => s.path === undefined || s.grpc === undefined,
    },
  ],
);

/** Timeouts without defaults: a route's unset field inherits the pool's. */
export const TimeoutOverrides = Opt({
  connect: Type.Optional(Duration(undefined, 'TCP connect to an endpoint')),
  read: Type.Optional(Duration(undefined, 'idle time waiting for response bytes')),
  send: Type.Optional(Duration(undefined, 'idle time sending request bytes')),
  request: Type.Optional(Duration(undefined, 'whole request; 0s = no overall limit')),
});

/**
 * YAML 1.1 parsers (kubectl's, Argo CD's) read an unquoted `on:` key as the boolean true, so
 * `retries: { on: [...] }` reaches the API server as a property named "true". The contract's field
 * name cannot change; the schema accepts the "true" spelling too and the compiler reads it as `on`.
 */
export const RETRY_ON_ALIAS_DOC =
  'the key kubectl and Argo CD (YAML 1.1) make of an unquoted `on:`; read as `on`';

export const RetryOverrides = Opt({
  attempts: Type.Optional(Int(0, 10)),
  on: Type.Optional(Type.Array(Enum(RETRY_ON), { maxItems: 16 })),
  true: Type.Optional(Type.Array(Enum(RETRY_ON), { maxItems: 16, description: RETRY_ON_ALIAS_DOC })),
  perTryTimeout: Type.Optional(Duration()),
  budgetPercent: Type.Optional(Int(0, 100)),
  minRetriesPerSecond: Type.Optional(Int(0, 10000)),
});

export const LocalRef = (description: string) => Obj({ name: Name() }, description);

export const SecretKeyRef = Obj({ name: Name(), key: Str(253, { minLength: 1 }) });

export { Bool };
