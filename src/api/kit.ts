// Schema building blocks shared by the three kinds. Each schema is written once with TypeBox and
// yields the TS type, the CRD's OpenAPI v3 (structural, with CEL rules) and the offline validator.
// A CEL rule is declared together with its TypeScript twin so the CRD and `bulkhead validate`
// can never disagree about what a rule means: `rules()` keeps the twin under a symbol that JSON
// serialization (and therefore the CRD generator) drops.

import { Type, type TSchema, type SchemaOptions } from '@sinclair/typebox';
import { CONDITION_DOCS } from './field-docs.ts';

export const kChecks = Symbol.for('bulkhead.celChecks');

export interface CelRule {
  /** CEL expression evaluated by the API server with `self` bound to this node */
  rule: string;
  message: string;
  /** JSONPath-like relative path (`.minReplicas`) the error is reported on */
  fieldPath?: string;
  /** the same rule in TypeScript, run by `bulkhead validate` on the defaulted object */
  check: (self: any) => boolean;
}

/** Attach CEL rules (and their TS twins) to a schema node. */
export function rules<T extends TSchema>(schema: T, list: CelRule[]): T {
  const node = schema as any;
  node['x-kubernetes-validations'] = list.map(({ rule, message, fieldPath }) =>
    fieldPath ? { rule, message, fieldPath } : { rule, message },
  );
  node[kChecks] = list;
  return schema;
}

/** Gateway API duration form: up to four `<n><unit>` parts, units h, m, s, ms. */
export const DURATION_PATTERN = '^([0-9]{1,5}(h|m|s|ms)){1,4}$';

export const Duration = (def?: string, description?: string) =>
  Type.String({
    pattern: DURATION_PATTERN,
    maxLength: 32,
    ...(def !== undefined ? { default: def } : {}),
    ...(description ? { description } : {}),
    'x-bulkhead-format': 'duration',
  });

export const Name = (description?: string) =>
  Type.String({
    minLength: 1,
    maxLength: 253,
    pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
    ...(description ? { description } : {}),
  });

export const Label = (description?: string) =>
  Type.String({
    minLength: 1,
    maxLength: 63,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    ...(description ? { description } : {}),
  });

export const Port = (def?: number, description?: string) =>
  Type.Integer({
    minimum: 1,
    maximum: 65535,
    ...(def !== undefined ? { default: def } : {}),
    ...(description ? { description } : {}),
  });

export const Int = (min: number, max: number, def?: number, description?: string) =>
  Type.Integer({
    minimum: min,
    maximum: max,
    ...(def !== undefined ? { default: def } : {}),
    ...(description ? { description } : {}),
  });

export const Bool = (def: boolean, description?: string) =>
  Type.Boolean({ default: def, ...(description ? { description } : {}) });

export const Enum = <T extends string>(values: readonly T[], def?: T, description?: string) =>
  Type.Unsafe<T>({
    type: 'string',
    enum: [...values],
    ...(def !== undefined ? { default: def } : {}),
    ...(description ? { description } : {}),
  });

/** A string of bounded length (every string needs a bound for the API server's CEL cost estimate). */
export const Str = (maxLength = 1024, opts: SchemaOptions = {}) => Type.String({ maxLength, ...opts });

/** Kubernetes int-or-string (resource quantities, `workers: auto | 4`). */
export const IntOrString = (opts: SchemaOptions = {}) =>
  Type.Unsafe<number | string>({
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    ...opts,
  });

export const StringMap = (description?: string) =>
  Type.Record(Type.String(), Type.String({ maxLength: 1024 }), {
    maxProperties: 64,
    ...(description ? { description } : {}),
  });

/**
 * A closed object. A property with a default is never `required` (the API server fills it in), so
 * the static type describes the object after defaulting, which is what the compiler works with.
 */
export const Obj = <P extends Record<string, TSchema>>(
  props: P,
  description?: string,
  extra: SchemaOptions = {},
) => {
  const schema = Type.Object(props, {
    additionalProperties: false,
    ...(description ? { description } : {}),
    ...extra,
  });
  const node = schema as { required?: string[] };
  const required = (node.required ?? []).filter(
    (k) => (props[k] as { default?: unknown }).default === undefined,
  );
  if (required.length > 0) node.required = required;
  else delete node.required;
  return schema;
};

/** An object block whose fields all have defaults: `default: {}` makes the API server fill it in. */
export const Block = <P extends Record<string, TSchema>>(
  props: P,
  description?: string,
  extra: SchemaOptions = {},
) => Type.Optional(Obj(props, description, { default: {}, ...extra }));

/** An optional object that is absent unless the user writes it (presence means "on"). */
export const Opt = <P extends Record<string, TSchema>>(
  props: P,
  description?: string,
  extra: SchemaOptions = {},
) => Type.Optional(Obj(props, description, extra));

export const Condition = Type.Object(
  {
    type: Type.String({ maxLength: 316 }),
    status: Type.Unsafe<'True' | 'False' | 'Unknown'>({ type: 'string', enum: ['True', 'False', 'Unknown'] }),
    reason: Type.String({ maxLength: 1024 }),
    message: Type.String({ maxLength: 32768 }),
    lastTransitionTime: Type.String({ format: 'date-time' }),
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

for (const [k, text] of Object.entries(CONDITION_DOCS)) (Condition.properties as any)[k].description = text;

export const Conditions = Type.Array(Condition, {
  maxItems: 8,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});
