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

export const Match = Obj(
  {
    path: Type.Optional(PathMatch),
    method: Type.Optional(Enum(HTTP_METHODS)),
    headers: Type.Optional(Type.Array(HeaderMatch, { maxItems: 16 })),
    cookies: Type.Optional(Type.Array(CookieMatch, { maxItems: 16 })),
    queryParams: Type.Optional(Type.Array(QueryParamMatch, { maxItems: 16 })),
  },
  'All conditions of one match must hold.',
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
  on: Type.Optional(Type.Array(Enum(RETRY_ON), { maxItems: 8 })),
  true: Type.Optional(Type.Array(Enum(RETRY_ON), { maxItems: 8, description: RETRY_ON_ALIAS_DOC })),
  perTryTimeout: Type.Optional(Duration()),
  budgetPercent: Type.Optional(Int(0, 100)),
  minRetriesPerSecond: Type.Optional(Int(0, 10000)),
});

export const LocalRef = (description: string) => Obj({ name: Name() }, description);

export const SecretKeyRef = Obj({ name: Name(), key: Str(253, { minLength: 1 }) });

export { Bool };
