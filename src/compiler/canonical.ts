// Canonical JSON (object keys sorted recursively) and the content hash used as snapshot version.
// Same data → same bytes → same version, so an unchanged world never pushes a new config.

import { createHash } from 'node:crypto';

export function canonicalize<T>(value: T): T {
  if (Array.isArray(value)) return value.map(canonicalize) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = canonicalize(v);
  }
  return out as T;
}

export function contentHash(value: unknown): string {
  return 'sha256:' + createHash('sha256').update(JSON.stringify(canonicalize(value))).digest('hex');
}
