// Markdown API reference generated from the same TypeBox schemas as the CRDs: every field with
// its dot path, type, bounds, default and CEL rules, so the docs cannot drift from the API.

import { KINDS, API_VERSION } from './kinds.ts';
import { kChecks, type CelRule } from './kit.ts';

function typeOf(s: any): string {
  if (s['x-kubernetes-int-or-string']) return 'int or string';
  if (s.enum) return s.enum.map((v: string) => `\`${v}\``).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items?.type === 'object' ? 'objects' : typeOf(s.items ?? {})}`;
  if (s.patternProperties || (s.type === 'object' && !s.properties)) return 'map of string';
  if (s['x-bulkhead-format'] === 'duration') return 'duration';
  return s.type ?? 'any';
}

function bounds(s: any): string {
  const out: string[] = [];
  if (s.minimum !== undefined || s.maximum !== undefined) out.push(`${s.minimum ?? '…'}–${s.maximum ?? '…'}`);
  if (s.minItems !== undefined || s.maxItems !== undefined)
    out.push(`${s.minItems ?? 0}..${s.maxItems ?? '∞'} items`);
  if (s.pattern && s['x-bulkhead-format'] !== 'duration')
    out.push(`pattern \`${s.pattern.replace(/\|/g, '\\|')}\``);
  return out.join(', ');
}

function walk(s: any, path: string, required: boolean, rows: string[], rules: string[]): void {
  const checks: CelRule[] | undefined = s[kChecks];
  for (const c of checks ?? []) rules.push(`- \`${path}${c.fieldPath ?? ''}\`: ${c.message}`);
  const isObject = s.type === 'object' && s.properties;
  if (path !== 'spec') {
    const def = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
    const desc = (s.description ?? '').replace(/\|/g, '\\|');
    rows.push(
      `| \`${path}\` | ${isObject ? 'object' : typeOf(s)} | ${required ? 'yes' : ''} | ${def} | ${[bounds(s), desc].filter(Boolean).join('; ')} |`,
    );
  }
  if (isObject) {
    const req = new Set<string>(s.required ?? []);
    for (const k of Object.keys(s.properties)) walk(s.properties[k], `${path}.${k}`, req.has(k), rows, rules);
  } else if (s.type === 'array' && s.items?.type === 'object') {
    walk(s.items, `${path}[]`, false, rows, rules);
  }
}

export function apiReferenceMarkdown(): string {
  let md = `# Bulkhead API reference (${API_VERSION})\n\n`;
  md += 'Generated from `src/api/` by `npm run gen`; a test fails when this file is stale. ';
  md +=
    'Durations use the Gateway API form (`250ms`, `1s`, `1m30s`). Fields with a default are filled in by the API server.\n';
  for (const k of KINDS) {
    const rows: string[] = [];
    const rules: string[] = [];
    walk(k.spec, 'spec', true, rows, rules);
    md += `\n## ${k.kind}\n\n${k.description}\n\n`;
    md += `\`kubectl get ${k.plural}\` (short name${k.shortNames.length > 1 ? 's' : ''} ${k.shortNames.map((n) => `\`${n}\``).join(', ')}, category \`bulkhead\`)`;
    md += k.maxNameLength ? `; names up to ${k.maxNameLength} characters.\n\n` : '.\n\n';
    md += '| field | type | required | default | notes |\n|---|---|---|---|---|\n' + rows.join('\n') + '\n';
    if (rules.length)
      md += `\nRules checked by the API server (CEL) and by \`bulkhead validate\`:\n\n${rules.join('\n')}\n`;
  }
  return md;
}
