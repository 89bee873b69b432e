// Canonical JSON (object keys sorted recursively) and the content hash used as snapshot version.
// Same data → same bytes → same version, so an unchanged world never pushes a new config.
// `canonicalJson` writes the string directly (no intermediate sorted copies): it runs over every
// snapshot on every compile.

import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return out + ']';
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return out + '}';
}

/** A sorted-keys copy, for the few user-shaped maps that end up in outputs (labels, selectors). */
export function canonicalize<T>(value: T): T {
  return JSON.parse(canonicalJson(value)) as T;
}

export function hashJson(json: string): string {
  return 'sha256:' + createHash('sha256').update(json).digest('hex');
}

export function contentHash(value: unknown): string {
  return hashJson(canonicalJson(value));
}
