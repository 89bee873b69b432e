// Thompson-NFA simulation (a Pike VM without capture slots: we only answer "does it match").
// Every step keeps at most one thread per program counter, so the work is O(len(input) × states)
// whatever the pattern — `(a+)+$` cannot blow up the way it does in a backtracking engine.
// The thread lists and the visited marks are allocated once per compiled regex and reused, which is
// safe because matching is synchronous.

import { OP_BOL, OP_CHAR, OP_EOL, OP_JMP, OP_MATCH, OP_SPLIT, type Program } from './compiler.ts';

export class PikeVM {
  private clist: Int32Array;
  private nlist: Int32Array;
  private stack: Int32Array;
  private mark: Uint32Array;
  private gen = 0;

  constructor(private readonly prog: Program) {
    const n = prog.op.length;
    this.clist = new Int32Array(n);
    this.nlist = new Int32Array(n);
    this.stack = new Int32Array(n);
    this.mark = new Uint32Array(n);
  }

  /** full = the whole input must match; otherwise any substring match counts. */
  run(input: string, full: boolean): boolean {
    const prog = this.prog;
    const op = prog.op;
    const len = input.length;
    let clist = this.clist;
    let nlist = this.nlist;
    this.nextGen();
    let ccount = this.addThread(clist, 0, 0, 0, len);
    let pos = 0;
    for (;;) {
      if (!full) {
        for (let i = 0; i < ccount; i++) if (op[clist[i]!] === OP_MATCH) return true;
      }
      if (pos >= len) break;
      let cp = input.charCodeAt(pos);
      let next = pos + 1;
      if (cp >= 0xd800 && cp <= 0xdbff && next < len) {
        const lo = input.charCodeAt(next);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = (cp - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000;
          next++;
        }
      }
      this.nextGen();
      let ncount = 0;
      for (let i = 0; i < ccount; i++) {
        const pc = clist[i]!;
        if (op[pc] === OP_CHAR && inSet(prog, prog.y[pc]!, cp)) {
          ncount = this.addThread(nlist, ncount, pc + 1, next, len);
        }
      }
      if (!full) ncount = this.addThread(nlist, ncount, 0, next, len);
      else if (ncount === 0) return false;
      const t = clist;
      clist = nlist;
      nlist = t;
      ccount = ncount;
      pos = next;
    }
    for (let i = 0; i < ccount; i++) if (op[clist[i]!] === OP_MATCH) return true;
    return false;
  }

  private nextGen(): void {
    if (++this.gen === 0xffffffff) {
      this.mark.fill(0);
      this.gen = 1;
    }
  }

  /** Adds pc and everything reachable from it without consuming input; returns the new list length. */
  private addThread(list: Int32Array, count: number, start: number, pos: number, len: number): number {
    const { op, x, y } = this.prog;
    const mark = this.mark;
    const gen = this.gen;
    const stack = this.stack;
    if (mark[start] === gen) return count;
    mark[start] = gen;
    let sp = 0;
    stack[sp++] = start;
    while (sp > 0) {
      const pc = stack[--sp]!;
      switch (op[pc]) {
        case OP_JMP:
          if (mark[x[pc]!] !== gen) {
            mark[x[pc]!] = gen;
            stack[sp++] = x[pc]!;
          }
          break;
        case OP_SPLIT:
          if (mark[y[pc]!] !== gen) {
            mark[y[pc]!] = gen;
            stack[sp++] = y[pc]!;
          }
          if (mark[x[pc]!] !== gen) {
            mark[x[pc]!] = gen;
            stack[sp++] = x[pc]!;
          }
          break;
        case OP_BOL:
          if (pos === 0 && mark[pc + 1] !== gen) {
            mark[pc + 1] = gen;
            stack[sp++] = pc + 1;
          }
          break;
        case OP_EOL:
          if (pos === len && mark[pc + 1] !== gen) {
            mark[pc + 1] = gen;
            stack[sp++] = pc + 1;
          }
          break;
        default: // OP_CHAR, OP_MATCH wait for the next step
          list[count++] = pc;
      }
    }
    return count;
  }
}

/** Whether code point cp is in set s of the program. */
export function inSet(prog: Program, s: number, cp: number): boolean {
  if (cp < 128) return (prog.ascii[s * 4 + (cp >> 5)]! & (1 << (cp & 31))) !== 0;
  const r = prog.ranges[s]!;
  // binary search over [lo, hi] pairs
  let a = 0;
  let b = (r.length >> 1) - 1;
  while (a <= b) {
    const m = (a + b) >> 1;
    if (cp < r[m * 2]!) b = m - 1;
    else if (cp > r[m * 2 + 1]!) a = m + 1;
    else return true;
  }
  return false;
}
