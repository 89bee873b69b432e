// `bulkhead validate -f <file|dir|->`: schema + CEL-equivalent checks for every Bulkhead document,
// one line per problem. Exit codes (src/cli/errors.ts): 1 when any object is invalid or the input
// holds no Bulkhead object at all, 2 for input errors (missing path, YAML syntax). Other kinds are
// ignored. `--world` also compiles the input as the whole cluster and reports every object the
// operator would not accept (host conflicts across namespaces, pools not found or not allowed,
// policy targets not found), which the admission webhook refuses in the cluster.

import type { Command } from 'commander';
import { formatProblem, isBulkheadDocument, validateObject, type Problem } from '../api/validate.ts';
import { EXIT_INVALID, EXIT_OK, reportCliError } from './errors.ts';
import { loadDocuments, requireBulkheadObjects } from './load.ts';
import { bagFromDocuments, compile } from '../compiler/index.ts';
import type { ConditionVerdict } from '../compiler/conditions.ts';

export function validateFiles(
  paths: string[],
  recursive = false,
  world = false,
): { checked: number; problems: Problem[] } {
  let checked = 0;
  const problems: Problem[] = [];
  const docs = loadDocuments(paths, recursive).map((d) => d.doc);
  for (const doc of docs) {
    if (!isBulkheadDocument(doc)) continue;
    checked++;
    problems.push(...validateObject(doc));
  }
  // cross-object checks only on a schema-valid input: the compiler assumes valid objects
  if (world && problems.length === 0) problems.push(...worldProblems(docs));
  return { checked, problems };
}

function refused(kind: string, key: string, c: ConditionVerdict | undefined, path: string): Problem[] {
  if (c === undefined || c.status === 'True') return [];
  const [namespace, name] = key.split('/') as [string, string];
  return [{ kind, namespace, name, path, message: `not Accepted (${c.reason}): ${c.message}` }];
}

/** what the cluster would refuse once every object in the input exists together */
export function worldProblems(docs: unknown[]): Problem[] {
  const { statuses } = compile(bagFromDocuments(docs as never[]));
  const accepted = (cs: ConditionVerdict[]) => cs.find((c) => c.type === 'Accepted');
  return [
    ...Object.entries(statuses.ingressPools).flatMap(([k, v]) =>
      refused('IngressPool', k, accepted(v.conditions), 'status.conditions[Accepted]'),
    ),
    ...Object.entries(statuses.routeSplits).flatMap(([k, v]) =>
      refused('RouteSplit', k, accepted(v.conditions), 'status.conditions[Accepted]'),
    ),
    ...Object.entries(statuses.rateLimitPolicies).flatMap(([k, v]) =>
      refused('RateLimitPolicy', k, accepted(v.conditions), 'status.conditions[Accepted]'),
    ),
  ];
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check Bulkhead objects offline against the API schema and its rules (for GitOps CI)')
    .requiredOption('-f, --filename <path...>', 'files or directories of YAML/JSON manifests; - reads stdin')
    .option('-R, --recursive', 'also read subdirectories (as kubectl -R)', false)
    .option(
      '--world',
      'also check the objects together, as the cluster would (conflicts, pools not found or not allowed, missing targets); the input must hold every pool, route, policy and namespace involved',
      false,
    )
    .action((opts: { filename: string[]; recursive: boolean; world: boolean }) => {
      try {
        const { checked, problems } = validateFiles(opts.filename, opts.recursive, opts.world);
        requireBulkheadObjects(opts.filename, checked, opts.recursive);
        for (const p of problems) process.stdout.write(formatProblem(p) + '\n');
        const bad = new Set(problems.map((p) => `${p.kind}/${p.namespace}/${p.name}`)).size;
        process.stderr.write(`${checked} Bulkhead object(s) checked, ${bad} invalid\n`);
        process.exitCode = problems.length > 0 ? EXIT_INVALID : EXIT_OK;
      } catch (err) {
        reportCliError('validate', err);
      }
    });
}
