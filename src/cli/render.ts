// `bulkhead render -f <file|dir> [--output manifests|snapshots|status] [--pool <ns>/<name>]`:
// offline compile + synthesize for GitOps review. Inputs may hold Services, EndpointSlices and
// Namespaces besides the Bulkhead kinds; everything else is ignored. Exit codes as `validate`
// (src/cli/errors.ts); `-o status` also exits 1 when any object is not Accepted, so CI can gate on it.

import type { Command } from 'commander';
import { stringify } from 'yaml';
import { bagFromDocuments, compile, type CompileResult } from '../compiler/index.ts';
import { manifestsToYaml, synthesize } from '../synth/index.ts';
import { isBulkheadDocument } from '../api/validate.ts';
import type { ConditionVerdict, StatusVerdicts } from '../compiler/conditions.ts';
import { CliError, EXIT_INVALID, reportCliError } from './errors.ts';
import { loadDocuments, requireBulkheadObjects } from './load.ts';

export type RenderOutput = 'manifests' | 'snapshots' | 'status';

export function compileFiles(paths: string[], recursive = false): CompileResult {
  const docs = loadDocuments(paths, recursive).map((d) => d.doc);
  requireBulkheadObjects(paths, docs.filter(isBulkheadDocument).length, recursive);
  return compile(bagFromDocuments(docs));
}

function accepted(conditions: ConditionVerdict[]): boolean {
  return conditions.some((c) => c.type === 'Accepted' && c.status === 'True');
}

/** `Kind namespace/name` of every object that is not Accepted (a route: by any of its parents). */
export function notAccepted(s: StatusVerdicts): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(s.ingressPools))
    if (!accepted(v.conditions)) out.push(`IngressPool ${k}`);
  for (const [k, v] of Object.entries(s.routeSplits))
    if (v.parents.length === 0 || v.parents.some((p) => !accepted(p.conditions))) out.push(`RouteSplit ${k}`);
  for (const [k, v] of Object.entries(s.rateLimitPolicies))
    if (!accepted(v.conditions)) out.push(`RateLimitPolicy ${k}`);
  return out;
}

export function render(paths: string[], output: RenderOutput, pool?: string, recursive = false): string {
  return renderResult(compileFiles(paths, recursive), output, pool);
}

export function renderResult(result: CompileResult, output: RenderOutput, pool?: string): string {
  const keys = Object.keys(result.snapshots).sort();
  if (pool !== undefined && !keys.includes(pool)) {
    const why = result.statuses.ingressPools[pool]
      ? `IngressPool ${pool} is not accepted: ${result.statuses.ingressPools[pool]!.conditions.map((c) => c.message).join('; ')}`
      : `no IngressPool ${pool} in the input (pools: ${keys.join(', ') || 'none'})`;
    throw new CliError('BH_ERR_RENDER_POOL', why, EXIT_INVALID);
  }
  const selected = pool !== undefined ? [pool] : keys;
  switch (output) {
    case 'snapshots':
      // One pool: exactly the JSON `bulkhead dataplane --snapshot` loads. Several: a map by pool.
      if (pool !== undefined) return JSON.stringify(result.snapshots[pool], null, 2) + '\n';
      return (
        JSON.stringify(Object.fromEntries(selected.map((k) => [k, result.snapshots[k]])), null, 2) + '\n'
      );
    case 'status':
      return stringify(result.statuses, { lineWidth: 0 });
    case 'manifests': {
      return manifestsToYaml(selected.flatMap((k) => synthesize(result.infra[k]!)));
    }
    default:
      throw new CliError(
        'BH_ERR_USAGE',
        `unknown --output ${String(output)}: use manifests, snapshots or status`,
      );
  }
}

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('compile and synthesize offline: manifests (YAML), snapshots (JSON) or statuses')
    .requiredOption('-f, --filename <path...>', 'files or directories of YAML/JSON manifests; - reads stdin')
    .option('-o, --output <kind>', 'manifests | snapshots | status', 'manifests')
    .option('--pool <namespace/name>', 'only this pool')
    .option('-R, --recursive', 'also read subdirectories (as kubectl -R)', false)
    .action((opts: { filename: string[]; output: RenderOutput; pool?: string; recursive: boolean }) => {
      try {
        const result = compileFiles(opts.filename, opts.recursive);
        process.stdout.write(renderResult(result, opts.output, opts.pool));
        if (opts.output === 'status') {
          const bad = notAccepted(result.statuses);
          if (bad.length > 0) {
            process.stderr.write(`bulkhead render: not Accepted: ${bad.join(', ')}\n`);
            process.exitCode = EXIT_INVALID;
          }
        }
      } catch (err) {
        reportCliError('render', err);
      }
    });
}
