// The CLI's side of manifest input: the loader itself lives in src/manifests (the demo uses it too);
// here is the CLI rule that an input without Bulkhead objects is an error.

import { readdirSync } from 'node:fs';
import { CliError, EXIT_INVALID } from './errors.ts';
import { STDIN, displayName, statPath } from '../manifests/load.ts';

export {
  loadDocuments,
  listManifestFiles,
  parseManifests,
  STDIN,
  type LoadedDocument,
} from '../manifests/load.ts';

/**
 * `kubectl apply -f` refuses an input without objects ("no objects passed to apply"); so does the CLI,
 * and more strictly, without Bulkhead objects: a mistyped path or an empty directory must not pass CI.
 */
export function requireBulkheadObjects(paths: string[], count: number, recursive: boolean): void {
  if (count > 0) return;
  const dirs =
    !recursive &&
    paths.some(
      (p) =>
        p !== STDIN &&
        statPath(p).isDirectory() &&
        readdirSync(p, { withFileTypes: true }).some((e) => e.isDirectory()),
    );
  const hint = dirs ? ' (add -R to read subdirectories)' : '';
  throw new CliError(
    'BH_ERR_INPUT_EMPTY',
    `no Bulkhead objects (bulkhead.dev) in ${paths.map(displayName).join(', ')}${hint}`,
    EXIT_INVALID,
  );
}
