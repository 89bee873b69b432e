// `bulkhead render -f <file|dir> [--output manifests|snapshots|status] [--pool <ns>/<name>]`:
// offline compile + synthesize for GitOps review. Inputs may hold Services, EndpointSlices and
// Namespaces besides the Bulkhead kinds; everything else is ignored.

import type { Command } from 'commander';
import { stringify } from 'yaml';
import { bagFromDocuments, compile, type CompileResult } from '../compiler/index.ts';
import { manifestsToYaml, synthesize } from '../synth/index.ts';
import { loadDocuments } from './load.ts';

export type RenderOutput = 'manifests' | 'snapshots' | 'status';

export class RenderError extends Error {}

export function compileFiles(paths: string[], recursive = false): CompileResult {
  return compile(bagFromDocuments(loadDocuments(paths, recursive).map((d) => d.doc)));
}

export function render(paths: string[], output: RenderOutput, pool?: string, recursive = false): string {
  const result = compileFiles(paths, recursive);
  const keys = Object.keys(result.snapshots).sort();
  if (pool !== undefined && !keys.includes(pool)) {
    const why = result.statuses.ingressPools[pool]
      ? `IngressPool ${pool} is not accepted: ${result.statuses.ingressPools[pool]!.conditions.map((c) => c.message).join('; ')}`
      : `no IngressPool ${pool} in the input (pools: ${keys.join(', ') || 'none'})`;
    throw new RenderError(why);
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
      throw new RenderError(`unknown --output ${String(output)}: use manifests, snapshots or status`);
  }
}

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('compile and synthesize offline: manifests (YAML), snapshots (JSON) or statuses')
    .requiredOption('-f, --filename <path...>', 'files or directories of YAML/JSON manifests')
    .option('-o, --output <kind>', 'manifests | snapshots | status', 'manifests')
    .option('--pool <namespace/name>', 'only this pool')
    .option('-R, --recursive', 'also read subdirectories (as kubectl -R)', false)
    .action((opts: { filename: string[]; output: RenderOutput; pool?: string; recursive: boolean }) => {
      try {
        process.stdout.write(render(opts.filename, opts.output, opts.pool, opts.recursive));
      } catch (err) {
        if (!(err instanceof RenderError)) throw err;
        process.stderr.write(`bulkhead render: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
