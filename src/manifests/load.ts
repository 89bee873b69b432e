// Reads YAML (multi-document) or JSON manifests from files, directory trees or stdin (`-f -`, as
// kubectl), remembering where each document came from so errors can point at it. Every input problem
// is a one-line InputError with the file (and line:column for YAML syntax), never a stack trace.
// Shared by the CLI (validate, render) and the local demo, which must not depend on each other.

import { readFileSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { InputError } from './errors.ts';

export interface LoadedDocument {
  source: string;
  index: number;
  doc: any;
}

const MANIFEST = /\.(ya?ml|json)$/i;
export const STDIN = '-';

export function statPath(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new InputError('BH_ERR_INPUT_NOT_FOUND', `${path}: no such file or directory`);
    throw new InputError('BH_ERR_INPUT_READ', `${path}: ${(err as Error).message}`);
  }
}

/** Like `kubectl apply -f`: a directory's own files, its subdirectories only with `recursive`. */
export function listManifestFiles(path: string, recursive = false): string[] {
  if (path === STDIN) return [STDIN];
  const st = statPath(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path).sort()) {
    if (entry.startsWith('.')) continue;
    const full = join(path, entry);
    const s = statPath(full);
    if (s.isDirectory()) {
      if (recursive) out.push(...listManifestFiles(full, true));
    } else if (MANIFEST.test(entry)) out.push(full);
  }
  return out;
}

function readText(file: string): string {
  try {
    return readFileSync(file === STDIN ? 0 : file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new InputError('BH_ERR_INPUT_READ', `${file}: is a directory`);
    throw new InputError('BH_ERR_INPUT_READ', `${displayName(file)}: ${(err as Error).message}`);
  }
}

export function displayName(file: string): string {
  return file === STDIN ? '<stdin>' : file;
}

/** The YAML library's message has the position and a code frame on following lines; keep the first. */
function yamlMessage(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? 'plain text' : `a ${typeof value}`;
}

export function parseManifests(text: string, source: string): LoadedDocument[] {
  const out: LoadedDocument[] = [];
  const name = displayName(source);
  if (text.includes('\u0000'))
    throw new InputError('BH_ERR_INPUT_NOT_MANIFEST', `${name}: binary data, not YAML or JSON manifests`);
  parseAllDocuments(text).forEach((d, index) => {
    const e = d.errors[0];
    if (e) {
      const pos = e.linePos?.[0];
      const at = pos ? `${name}:${pos.line}:${pos.col}` : name;
      throw new InputError('BH_ERR_INPUT_YAML', `${at}: ${yamlMessage(e.message)}`);
    }
    const value = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      const line = d.contents?.range ? lineOf(text, d.contents.range[0]) : 1;
      throw new InputError(
        'BH_ERR_INPUT_NOT_MANIFEST',
        `${name}:${line}: document ${index + 1} is ${kindOf(value)}, not a Kubernetes object (apiVersion, kind, metadata)`,
      );
    }
    // `kind: List` wrappers, as `kubectl get -o yaml` prints them
    if (value.kind === 'List' && Array.isArray(value.items)) {
      for (const item of value.items) out.push({ source: name, index, doc: item });
    } else out.push({ source: name, index, doc: value });
  });
  return out;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export function loadDocuments(paths: string[], recursive = false): LoadedDocument[] {
  const out: LoadedDocument[] = [];
  for (const p of paths) {
    for (const file of listManifestFiles(p, recursive)) out.push(...parseManifests(readText(file), file));
  }
  return out;
}
