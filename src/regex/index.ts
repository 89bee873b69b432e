// SafeRegex: the linear-time regular expressions used for RegularExpression path, header and
// query matches. RE2 syntax subset, RE2 FullMatch semantics by default (Gateway API: the regex
// must match the whole value). See parser.ts for what is accepted and rejected.

import { compileProgram, type Program } from './compiler.ts';
import { RegexSyntaxError } from './errors.ts';
import { parse } from './parser.ts';
import { LazyDfa } from './lazy-dfa.ts';
import { PikeVM } from './pike-vm.ts';

export { RegexSyntaxError } from './errors.ts';
export { MAX_PATTERN_LENGTH, MAX_REPEAT } from './parser.ts';
export { MAX_STATES } from './compiler.ts';

export interface SafeRegexOptions {
  /** true (default): the whole input must match; false: any substring may match. */
  fullMatch?: boolean;
}

export class SafeRegex {
  readonly source: string;
  readonly anchoredFull: boolean;
  /** number of NFA instructions, for diagnostics */
  readonly states: number;
  private readonly literal: string | null;
  // full match runs on the lazy DFA, substring search on the Pike VM
  private readonly dfa: LazyDfa | null;
  private readonly vm: PikeVM | null;

  private constructor(source: string, prog: Program, full: boolean) {
    this.source = source;
    this.anchoredFull = full;
    this.states = prog.op.length;
    this.literal = full ? prog.literal : null;
    this.dfa = full && this.literal === null ? new LazyDfa(prog) : null;
    this.vm = full ? null : new PikeVM(prog);
  }

  /** Throws RegexSyntaxError for invalid or unsupported syntax and for patterns over the size limits. */
  static compile(pattern: string, options?: SafeRegexOptions): SafeRegex {
    const prog = compileProgram(parse(pattern));
    return new SafeRegex(pattern, prog, options?.fullMatch ?? true);
  }

  test(input: string): boolean {
    if (this.literal !== null) return input === this.literal;
    if (this.dfa !== null) return this.dfa.fullMatch(input);
    return this.vm!.run(input, false);
  }
}

/** null when the pattern is accepted, else what is wrong and where (for the webhook and the compiler). */
export function checkRegex(pattern: string): string | null {
  try {
    compileProgram(parse(pattern));
    return null;
  } catch (err) {
    if (err instanceof RegexSyntaxError) return err.message;
    throw err;
  }
}
