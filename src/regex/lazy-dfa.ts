// A lazily built DFA over the NFA program (the RE2 idea): each DFA state is the set of NFA
// instructions alive after some input, built the first time it is reached and cached with its
// ASCII transitions, so a warm match costs one array lookup per character. Still linear: a cache
// miss costs O(states). The cache is bounded; when it fills it is dropped and rebuilt as input
// arrives, so a pattern with an exploding state space degrades to NFA speed, never to more memory.
// Used for full-match mode; the Pike VM serves substring mode.

import { OP_BOL, OP_CHAR, OP_EOL, OP_JMP, OP_MATCH, OP_SPLIT, type Program } from './compiler.ts';
import { inSet } from './pike-vm.ts';

export const MAX_DFA_STATES = 512;

const UNKNOWN = -1;

interface DState {
  /** CHAR, MATCH and EOL instructions alive in this state, sorted */
  readonly pcs: Int32Array;
  /** next state index per ASCII code point, UNKNOWN until computed */
  readonly next: Int32Array;
  /** the input may end here */
  readonly acceptAtEnd: boolean;
  /** no thread alive: nothing can match any more */
  readonly dead: boolean;
  /** cache generation this state belongs to */
  readonly gen: number;
}

export class LazyDfa {
  private states: DState[] = [];
  private byKey = new Map<string, number>();
  private gen = 0;
  private startIndex = UNKNOWN;
  private readonly mark: Uint32Array;
  private markGen = 0;
  private readonly stack: Int32Array;
  private readonly scratch: Int32Array;

  constructor(private readonly prog: Program) {
    const n = prog.op.length;
    this.mark = new Uint32Array(n);
    this.stack = new Int32Array(n);
    this.scratch = new Int32Array(n);
  }

  fullMatch(input: string): boolean {
    let s = this.start();
    const len = input.length;
    for (let pos = 0; pos < len;) {
      const st = this.states[s]!;
      if (st.dead) return false;
      let cp = input.charCodeAt(pos++);
      if (cp < 128) {
        const t = st.next[cp]!;
        if (t !== UNKNOWN) {
          s = t;
          continue;
        }
        s = this.step(st, cp);
        if (st.gen === this.gen) st.next[cp] = s;
        continue;
      }
      if (cp >= 0xd800 && cp <= 0xdbff && pos < len) {
        const lo = input.charCodeAt(pos);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = (cp - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000;
          pos++;
        }
      }
      s = this.step(st, cp); // non-ASCII transitions are not cached
    }
    return this.states[s]!.acceptAtEnd;
  }

  private start(): number {
    const cached = this.startIndex;
    if (cached !== UNKNOWN && this.states[cached]?.gen === this.gen) return cached;
    this.newMarkGen();
    const count = this.closure(0, 0, true);
    this.startIndex = this.intern(count, true);
    return this.startIndex;
  }

  private step(st: DState, cp: number): number {
    const { op, y } = this.prog;
    this.newMarkGen();
    let count = 0;
    for (const pc of st.pcs) {
      if (op[pc] === OP_CHAR && inSet(this.prog, y[pc]!, cp)) count = this.closure(pc + 1, count, false);
    }
    return this.intern(count, false);
  }

  /** State for scratch[0..count), reusing an equal one; drops the cache when it is full. */
  private intern(count: number, isStart: boolean): number {
    const pcs = this.scratch.slice(0, count).sort();
    const key = (isStart ? 'S' : '') + pcs.join(',');
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    if (this.states.length >= MAX_DFA_STATES) {
      this.states = [];
      this.byKey = new Map();
      this.gen++;
      this.startIndex = UNKNOWN;
    }
    const state: DState = {
      pcs,
      next: new Int32Array(128).fill(UNKNOWN),
      acceptAtEnd: this.acceptsAtEnd(pcs, isStart),
      dead: count === 0,
      gen: this.gen,
    };
    this.byKey.set(key, this.states.length);
    this.states.push(state);
    return this.states.length - 1;
  }

  /** Whether, with no input left, some thread reaches MATCH (through `$` assertions). */
  private acceptsAtEnd(pcs: Int32Array, atStart: boolean): boolean {
    const { op } = this.prog;
    this.newMarkGen();
    let count = 0;
    for (const pc of pcs) {
      if (op[pc] === OP_MATCH) return true;
      if (op[pc] === OP_EOL) count = this.closure(pc + 1, count, atStart, true);
    }
    for (let i = 0; i < count; i++) if (op[this.scratch[i]!] === OP_MATCH) return true;
    return false;
  }

  private newMarkGen(): void {
    if (++this.markGen === 0xffffffff) {
      this.mark.fill(0);
      this.markGen = 1;
    }
  }

  /**
   * Adds to scratch everything reachable from `start` without consuming input. `$` is followed only
   * when atEnd (otherwise the EOL instruction itself is kept, to be resolved when the input ends).
   */
  private closure(start: number, count: number, atStart: boolean, atEnd = false): number {
    const { op, x, y } = this.prog;
    const mark = this.mark;
    const gen = this.markGen;
    const stack = this.stack;
    const out = this.scratch;
    if (mark[start] === gen) return count;
    mark[start] = gen;
    let sp = 0;
    stack[sp++] = start;
    while (sp > 0) {
      const pc = stack[--sp]!;
      let a = -1;
      let b = -1;
      switch (op[pc]) {
        case OP_JMP:
          a = x[pc]!;
          break;
        case OP_SPLIT:
          a = y[pc]!;
          b = x[pc]!;
          break;
        case OP_BOL:
          if (atStart) a = pc + 1;
          break;
        case OP_EOL:
          if (atEnd) a = pc + 1;
          else out[count++] = pc;
          break;
        default:
          out[count++] = pc;
      }
      if (a !== -1 && mark[a] !== gen) {
        mark[a] = gen;
        stack[sp++] = a;
      }
      if (b !== -1 && mark[b] !== gen) {
        mark[b] = gen;
        stack[sp++] = b;
      }
    }
    return count;
  }
}
