// RateLimitPolicy: limits on a route (or one rule of it) or a whole pool, per replica or shared
// through Redis. Enforced by the data plane (src/dataplane/ratelimit/); the exact behaviour is in
// docs/RATE-LIMITING.md.

import { Type, type Static } from '@sinclair/typebox';
import { Bool, Conditions, Duration, Enum, Int, Name, Obj, Opt, Str, rules } from './kit.ts';
import { Match, SecretKeyRef } from './common.ts';
import { applyFieldDocs, RATE_LIMIT_POLICY_SPEC_DOCS, RATE_LIMIT_POLICY_STATUS_DOCS } from './field-docs.ts';

const KeyPart = rules(
  Obj({
    type: Enum(['Header', 'ClientIP', 'Route', 'Path', 'QueryParam'] as const),
    name: Type.Optional(Str(256, { minLength: 1 })),
    prefixLength: Type.Optional(
      Int(
        0,
        128,
        undefined,
        'ClientIP mask: unset = whole address; 0-32 masks IPv4 clients (IPv6 stay /128); 33-128 masks IPv6 clients (IPv4 stay /32)',
      ),
    ),
  }),
  [
    {
      rule: "(self.type == 'Header' || self.type == 'QueryParam') == has(self.name)",
      message: 'name is required for Header and QueryParam key parts and not allowed for the others',
      fieldPath: '.name',
      check: (s) => (s.type === 'Header' || s.type === 'QueryParam') === (s.name !== undefined),
    },
    {
      rule: "self.type == 'ClientIP' || !has(self.prefixLength)",
      message: 'prefixLength is only allowed for ClientIP key parts',
      fieldPath: '.prefixLength',
      check: (s) => s.type === 'ClientIP' || s.prefixLength === undefined,
    },
  ],
);

const LimitRule = Obj({
  name: Str(63, { minLength: 1, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
  match: Type.Optional(Match),
  key: Type.Optional(
    Type.Array(KeyPart, { maxItems: 8, description: "the counter's key; empty = one shared counter" }),
  ),
  limit: Obj({
    requests: Int(1, 1000000000),
    period: Duration(undefined, 'e.g. 1s, 1m'),
    burst: Int(0, 1000000000, 0),
  }),
  cost: Int(1, 1000000, 1),
});

export const RateLimitPolicySpec = rules(
  Obj({
    targetRef: rules(
      Obj({
        kind: Enum(['RouteSplit', 'IngressPool'] as const),
        name: Name(),
        rule: Type.Optional(Str(63, { minLength: 1 })),
      }),
      [
        {
          rule: "self.kind == 'RouteSplit' || !has(self.rule)",
          message: 'rule is only allowed when targeting a RouteSplit',
          fieldPath: '.rule',
          check: (s) => s.kind === 'RouteSplit' || s.rule === undefined,
        },
      ],
    ),
    mode: Enum(['Local', 'Global'] as const, 'Local'),
    distribution: Enum(['PerReplica', 'SplitAcrossReplicas'] as const, 'PerReplica', 'Local only'),
    global: Opt({
      redis: Obj({ secretRef: SecretKeyRef }),
      timeout: Duration('20ms'),
      failureMode: Enum(['Open', 'Closed'] as const, 'Open'),
    }),
    shadow: Bool(false, 'count and log, never block'),
    responseHeaders: Bool(true),
    clientIP: Type.Optional(Obj({ trustedHops: Int(0, 16, 0) }, undefined, { default: {} })),
    rules: rules(Type.Array(LimitRule, { minItems: 1, maxItems: 16 }), [
      {
        rule: 'self.all(r, self.exists_one(x, x.name == r.name))',
        message: 'rule names must be unique within the policy',
        check: (s) => new Set((s as any[]).map((r) => r.name)).size === (s as any[]).length,
      },
    ]),
  }),
  [
    {
      rule: "!has(self.mode) || self.mode != 'Global' || has(self.global)",
      message: 'mode Global needs global.redis',
      fieldPath: '.global',
      check: (s) => s.mode !== 'Global' || s.global !== undefined,
    },
    {
      rule: "!has(self.distribution) || self.distribution == 'PerReplica' || !has(self.mode) || self.mode == 'Local'",
      message: 'SplitAcrossReplicas is only for mode Local',
      fieldPath: '.distribution',
      check: (s) => s.distribution !== 'SplitAcrossReplicas' || s.mode !== 'Global',
    },
  ],
);

export const RateLimitPolicyStatus = Obj({ conditions: Type.Optional({ ...Conditions }) });

export type RateLimitPolicySpec = Static<typeof RateLimitPolicySpec>;
export type RateLimitPolicyStatus = Static<typeof RateLimitPolicyStatus>;

// `kubectl explain` text for the fields above that carry none inline (src/api/field-docs.ts)
export const UNDOCUMENTED_PATHS = [
  ...applyFieldDocs(RateLimitPolicySpec, RATE_LIMIT_POLICY_SPEC_DOCS),
  ...applyFieldDocs(RateLimitPolicyStatus, RATE_LIMIT_POLICY_STATUS_DOCS),
];
