// Reads YAML (multi-document) or JSON manifests from a file or a directory tree, remembering where
// each document came from so errors can point at it.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface LoadedDocument {
  source: string;
  index: number;
  doc: any;
}

const MANIFEST = /\.(ya?ml|json)$/i;

/** Like `kubectl apply -f`: a directory's own files, its subdirectories only with `recursive`. */
export function listManifestFiles(path: string, recursive = false): string[] {
  const st = statSync(path);
  if (st.isFile()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path).sort()) {
    if (entry.startsWith('.')) continue;
    const full = join(path, entry);
    const s = statSync(full);
    if (s.isDirectory()) {
      if (recursive) out.push(...listManifestFiles(full, true));
    } else if (MANIFEST.test(entry)) out.push(full);
  }
  return out;
}

export class ManifestParseError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

export function loadDocuments(paths: string[], recursive = false): LoadedDocument[] {
  const out: LoadedDocument[] = [];
  for (const p of paths) {
    for (const file of listManifestFiles(p, recursive)) {
      const text = readFileSync(file, 'utf8');
      const docs = parseAllDocuments(text);
      docs.forEach((d, index) => {
        if (d.errors.length > 0) throw new ManifestParseError(file, d.errors[0]!.message);
        const value = d.toJS({ maxAliasCount: 100 });
        if (value === null || value === undefined) return;
        // `kind: List` wrappers, as `kubectl get -o yaml` prints them
        if (value.kind === 'List' && Array.isArray(value.items)) {
          for (const item of value.items) out.push({ source: file, index, doc: item });
        } else out.push({ source: file, index, doc: value });
      });
    }
  }
  return out;
}
