// The error every manifest-input problem raises: a code, a one-line message naming the file (and
// line:column for YAML syntax), and the exit code a command reports it with (2, an input error).

export type InputErrorCode =
  | 'BH_ERR_INPUT_NOT_FOUND'
  | 'BH_ERR_INPUT_READ'
  | 'BH_ERR_INPUT_YAML'
  | 'BH_ERR_INPUT_NOT_MANIFEST'
  | 'BH_ERR_INPUT_EMPTY';

export const EXIT_INPUT = 2;

export class InputError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = EXIT_INPUT,
  ) {
    super(`${code}: ${message}`);
  }
}
