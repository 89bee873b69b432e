// Coded command-line errors and the exit-code contract the CLI documents (README "Command line"):
// 0 success, 1 invalid or missing objects (what GitOps CI must stop on), 2 usage or input errors
// (a path that does not exist, unparsable YAML, a file that is not a manifest, a bad flag).
// A CliError prints as one line, `bulkhead <command>: BH_ERR_...: <message>`, never a stack trace.

import { InputError } from '../manifests/errors.ts';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

export type CliErrorCode =
  | 'BH_ERR_INPUT_NOT_FOUND'
  | 'BH_ERR_INPUT_READ'
  | 'BH_ERR_INPUT_YAML'
  | 'BH_ERR_INPUT_NOT_MANIFEST'
  | 'BH_ERR_INPUT_EMPTY'
  | 'BH_ERR_USAGE'
  | 'BH_ERR_RENDER_POOL';

/** A CLI error is an InputError (src/manifests) with the CLI's own codes as well. */
export class CliError extends InputError {
  constructor(code: CliErrorCode, message: string, exitCode: number = EXIT_USAGE) {
    super(code, message, exitCode);
  }
}

/** One line on stderr and the error's exit code; anything that is not an InputError is rethrown (a bug). */
export function reportCliError(command: string, err: unknown): void {
  if (!(err instanceof InputError)) throw err;
  process.stderr.write(`bulkhead ${command}: ${err.message}\n`);
  process.exitCode = err.exitCode;
}
