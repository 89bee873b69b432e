// The one error type the regex engine throws. `offset` is the index into the pattern where the
// problem starts, so validation messages can point at it.

export class RegexSyntaxError extends Error {
  readonly code = 'BH_ERR_REGEX_SYNTAX';
  readonly offset: number;
  /** the problem without the offset suffix */
  readonly problem: string;

  constructor(problem: string, offset: number) {
    super(`${problem} (at offset ${offset})`);
    this.name = 'RegexSyntaxError';
    this.problem = problem;
    this.offset = offset;
  }
}
