// `bulkhead validate -f <file|dir|->`: schema + CEL-equivalent checks for every Bulkhead document,
// one line per problem. Exit codes (src/cli/errors.ts): 1 when any object is invalid or the input
// holds no Bulkhead object at all, 2 for input errors (missing path, YAML syntax). Other kinds are
// ignored.

import type { Command } from 'commander';
import { formatProblem, isBulkheadDocument, validateObject, type Problem } from '../api/validate.ts';
import { EXIT_INVALID, EXIT_OK, reportCliError } from './errors.ts';
import { loadDocuments, requireBulkheadObjects } from './load.ts';

export function validateFiles(paths: string[], recursive = false): { checked: number; problems: Problem[] } {
  let checked = 0;
  const problems: Problem[] = [];
  for (const { doc } of loadDocuments(paths, recursive)) {
    if (!isBulkheadDocument(doc)) continue;
    checked++;
    problems.push(...validateObject(doc));
  }
  return { checked, problems };
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check Bulkhead objects offline against the API schema and its rules (for GitOps CI)')
    .requiredOption('-f, --filename <path...>', 'files or directories of YAML/JSON manifests; - reads stdin')
    .option('-R, --recursive', 'also read subdirectories (as kubectl -R)', false)
    .action((opts: { filename: string[]; recursive: boolean }) => {
      try {
        const { checked, problems } = validateFiles(opts.filename, opts.recursive);
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
