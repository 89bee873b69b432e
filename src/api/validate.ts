// Offline validation of Bulkhead objects: the CRD's OpenAPI schema (via Ajv) plus the TypeScript
// twins of its CEL rules, run on the defaulted object exactly as the API server would. Problems are
// reported as `<Kind>/<namespace>/<name>: <field.path>: <message>`.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { compileDefaulter } from './defaults.ts';
import { API_VERSION, GROUP, KIND_BY_NAME, type KindInfo } from './kinds.ts';
import { kChecks, type CelRule, DURATION_PATTERN } from './kit.ts';
import { checkRegexValue } from './regex-check.ts';
import { grpcPathMatch } from './grpc-match.ts';

export interface Problem {
  kind: string;
  namespace: string;
  name: string;
  /** dot notation from the object root, e.g. spec.rules[0].backends[1].weight */
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.kind}/${p.namespace}/${p.name}: ${p.path}: ${p.message}`;
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false, verbose: true });
const compiled = new Map<string, ValidateFunction>();

function specValidator(info: KindInfo): ValidateFunction {
  let fn = compiled.get(info.kind);
  if (!fn) {
    fn = ajv.compile(info.spec);
    compiled.set(info.kind, fn);
  }
  return fn;
}

/** True when the document belongs to this API group (whatever its version). */
export function isBulkheadDocument(doc: any): boolean {
  return (
    doc !== null &&
    typeof doc === 'object' &&
    typeof doc.apiVersion === 'string' &&
    (doc.apiVersion === GROUP || doc.apiVersion.startsWith(`${GROUP}/`))
  );
}

/** Fill in schema defaults (as the API server does on admission). Returns a new object. */
export function withDefaults<T>(info: KindInfo, spec: T): T {
  return compileDefaulter(info.spec)(structuredClone(spec)) as T;
}

export function validateObject(doc: any): Problem[] {
  return analyzeObject(doc).problems;
}

export interface Analysis {
  problems: Problem[];
  /** the defaulted spec, also when some parts have problems (null when there is no spec at all) */
  spec: any | null;
}

/**
 * Schema problems, then CEL-twin and regex problems on the defaulted spec. A CEL rule is not run on
 * a node whose subtree already has a schema problem (its inputs are not trustworthy), which is
 * also how the API server behaves; siblings are still checked, so the compiler can drop one bad rule
 * of a route and keep the others.
 */
export function analyzeObject(doc: any): Analysis {
  const kind = typeof doc?.kind === 'string' ? doc.kind : '<unknown kind>';
  const namespace = typeof doc?.metadata?.namespace === 'string' ? doc.metadata.namespace : 'default';
  const name = typeof doc?.metadata?.name === 'string' ? doc.metadata.name : '<unnamed>';
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ kind, namespace, name, path, message });

  if (doc?.apiVersion !== API_VERSION) {
    add('apiVersion', `must be ${API_VERSION} (got ${JSON.stringify(doc?.apiVersion)})`);
  }
  const info = KIND_BY_NAME.get(kind);
  if (!info) {
    add('kind', `unknown kind in group ${GROUP}: expected one of IngressPool, RouteSplit, RateLimitPolicy`);
    return { problems, spec: null };
  }
  if (typeof doc.metadata?.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(doc.metadata.name)) {
    add(
      'metadata.name',
      'is required and must be a DNS subdomain name (lower case letters, digits, - and .)',
    );
  } else if (info.maxNameLength && doc.metadata.name.length > info.maxNameLength) {
    add(
      'metadata.name',
      `${kind} names are limited to ${info.maxNameLength} characters (the names of its workloads derive from them)`,
    );
  }
  if (
    doc.spec === undefined ||
    doc.spec === null ||
    typeof doc.spec !== 'object' ||
    Array.isArray(doc.spec)
  ) {
    add('spec', 'is required');
    return { problems, spec: null };
  }
  const validate = specValidator(info);
  const schemaPaths: string[] = [];
  if (!validate(doc.spec)) {
    for (const e of dedupe(validate.errors ?? [])) {
      const path = errorPath(e);
      schemaPaths.push(path);
      add(path, errorMessage(e));
    }
  }
  let spec: any;
  try {
    spec = withDefaults(info, doc.spec);
  } catch {
    spec = structuredClone(doc.spec);
  }
  const tainted = (path: string) =>
    schemaPaths.some((p) => p === path || p.startsWith(path + '.') || p.startsWith(path + '['));
  walkRules(info.spec, spec, 'spec', (p, m, at) => {
    if (!tainted(at)) add(p, m);
  });
  walkRegexes(kind, spec, (p, m) => {
    if (!tainted(p)) add(p, m);
  });
  return { problems, spec };
}

function walkRules(
  schema: any,
  value: any,
  path: string,
  add: (p: string, m: string, at: string) => void,
): void {
  if (value === undefined || value === null || schema === undefined) return;
  const checks: CelRule[] | undefined = schema[kChecks];
  if (checks) {
    for (const c of checks) {
      let ok = false;
      try {
        ok = c.check(value);
      } catch {
        ok = false;
      }
      if (!ok) add(path + (c.fieldPath ?? ''), c.message, path);
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => walkRules(schema.items, item, `${path}[${i}]`, add));
  } else if (typeof value === 'object' && schema.properties) {
    for (const key of Object.keys(schema.properties))
      walkRules(schema.properties[key], value[key], `${path}.${key}`, add);
  }
}

/** RegularExpression matches must compile in the data plane's linear-time engine. */
function walkRegexes(kind: string, spec: any, add: (p: string, m: string) => void): void {
  const checkMatch = (m: any, base: string) => {
    if (m?.path?.type === 'RegularExpression') {
      const err = checkRegexValue(m.path.value);
      if (err) add(`${base}.path.value`, err);
    }
    const g = m?.grpc;
    if (g?.type === 'RegularExpression') {
      let ok = true;
      for (const field of ['service', 'method'] as const) {
        const err = g[field] === undefined ? null : checkRegexValue(g[field]);
        if (err) add(`${base}.grpc.${field}`, err);
        ok &&= err === null;
      }
      // each part compiles; the composed path pattern must stay within the engine's limits too
      if (ok && (g.service !== undefined || g.method !== undefined)) {
        const err = checkRegexValue(grpcPathMatch(g).value);
        if (err) add(`${base}.grpc`, err);
      }
    }
    for (const list of ['headers', 'queryParams'] as const) {
      (m?.[list] ?? []).forEach((h: any, i: number) => {
        if (h.type === 'RegularExpression') {
          const err = checkRegexValue(h.value);
          if (err) add(`${base}.${list}[${i}].value`, err);
        }
      });
    }
  };
  if (kind === 'RouteSplit') {
    (spec.rules ?? []).forEach((r: any, i: number) =>
      (r.matches ?? []).forEach((m: any, j: number) => checkMatch(m, `spec.rules[${i}].matches[${j}]`)),
    );
  } else if (kind === 'RateLimitPolicy') {
    (spec.rules ?? []).forEach(
      (r: any, i: number) => r.match && checkMatch(r.match, `spec.rules[${i}].match`),
    );
  }
}

function dedupe(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  for (const e of errors) {
    // int-or-string unions report one error per branch plus the anyOf itself; keep the anyOf.
    if (e.schemaPath.includes('/anyOf/')) continue;
    const key = errorPath(e);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

export function pointerToPath(pointer: string, root = 'spec'): string {
  let out = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`;
  }
  return out;
}

function errorPath(e: ErrorObject): string {
  const base = pointerToPath(e.instancePath);
  if (e.keyword === 'required') return `${base}.${(e.params as any).missingProperty}`;
  if (e.keyword === 'additionalProperties') return `${base}.${(e.params as any).additionalProperty}`;
  return base;
}

function errorMessage(e: ErrorObject): string {
  const p = e.params as any;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'unknown field';
    case 'enum':
      return `must be one of: ${p.allowedValues.join(', ')} (got ${JSON.stringify(e.data)})`;
    case 'pattern':
      return p.pattern === DURATION_PATTERN
        ? `must be a duration like 250ms, 1s, 5m or 1m30s (got ${JSON.stringify(e.data)})`
        : `must match ${p.pattern} (got ${JSON.stringify(e.data)})`;
    case 'minimum':
    case 'maximum':
      return `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${p.limit} (got ${JSON.stringify(e.data)})`;
    case 'minItems':
      return `needs at least ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${p.limit} items`;
    case 'anyOf':
      return `must be an integer or a string (got ${JSON.stringify(e.data)})`;
    case 'type':
      return `must be ${p.type === 'integer' ? 'an integer' : `a ${p.type}`} (got ${JSON.stringify(e.data)})`;
    default:
      return e.message ?? e.keyword;
  }
}
