// Turns the parsed AST into a Thompson NFA program held in typed arrays, so matching (pike-vm.ts)
// touches no objects per step. Bounded repeats are expanded, which is why the size is estimated
// and checked against MAX_STATES before anything is emitted.

import { RegexSyntaxError } from './errors.ts';
import type { Ranges } from './charclass.ts';
import type { Node } from './parser.ts';

export const MAX_STATES = 10_000;

export const OP_CHAR = 0; // consume one code point in set y, continue at pc + 1
export const OP_SPLIT = 1; // continue at x and at y
export const OP_JMP = 2; // continue at x
export const OP_BOL = 3; // only at input position 0, continue at pc + 1
export const OP_EOL = 4; // only at end of input, continue at pc + 1
export const OP_MATCH = 5;

export interface Program {
  readonly op: Uint8Array;
  readonly x: Int32Array;
  readonly y: Int32Array;
  /** 128-bit ASCII membership per set: set s, code point c < 128 → bit (c & 31) of word s*4 + (c >> 5) */
  readonly ascii: Uint32Array;
  /** normalized ranges per set for code points >= 128 */
  readonly ranges: Int32Array[];
  /** when the whole pattern is a literal string (plus optional outer anchors), that string */
  readonly literal: string | null;
}

export function estimateSize(n: Node): number {
  switch (n.t) {
    case 'empty':
      return 0;
    case 'set':
    case 'bol':
    case 'eol':
      return 1;
    case 'cat':
      return n.items.reduce((s, i) => s + estimateSize(i), 0);
    case 'alt':
      return n.items.reduce((s, i) => s + estimateSize(i) + 2, -2);
    case 'repeat': {
      const sub = estimateSize(n.sub);
      return n.min * sub + (n.max === -1 ? sub + 2 : (n.max - n.min) * (sub + 1));
    }
  }
}

export function compileProgram(ast: Node): Program {
  const size = estimateSize(ast) + 1;
  if (size > MAX_STATES) {
    throw new RegexSyntaxError(
      `pattern expands to ${size} NFA states (limit ${MAX_STATES}); reduce repeat counts`,
      0,
    );
  }
  const e = new Emitter();
  e.emit(ast);
  e.push(OP_MATCH, 0, 0);
  const ascii = new Uint32Array(e.sets.length * 4);
  const ranges: Int32Array[] = [];
  e.sets.forEach((r, s) => {
    const high: number[] = [];
    for (let i = 0; i < r.length; i += 2) {
      for (let c = r[i]!; c <= Math.min(r[i + 1]!, 127); c++) ascii[s * 4 + (c >> 5)]! |= 1 << (c & 31);
      if (r[i + 1]! >= 128) high.push(Math.max(r[i]!, 128), r[i + 1]!);
    }
    ranges.push(Int32Array.from(high));
  });
  return {
    op: Uint8Array.from(e.op),
    x: Int32Array.from(e.x),
    y: Int32Array.from(e.y),
    ascii,
    ranges,
    literal: literalOf(ast),
  };
}

class Emitter {
  op: number[] = [];
  x: number[] = [];
  y: number[] = [];
  sets: Ranges[] = [];
  setIndex = new Map<Ranges, number>();

  push(op: number, x: number, y: number): number {
    this.op.push(op);
    this.x.push(x);
    this.y.push(y);
    return this.op.length - 1;
  }

  emit(n: Node): void {
    switch (n.t) {
      case 'empty':
        return;
      case 'set': {
        let s = this.setIndex.get(n.ranges);
        if (s === undefined) {
          s = this.sets.push(n.ranges) - 1;
          this.setIndex.set(n.ranges, s);
        }
        this.push(OP_CHAR, 0, s);
        return;
      }
      case 'bol':
        this.push(OP_BOL, 0, 0);
        return;
      case 'eol':
        this.push(OP_EOL, 0, 0);
        return;
      case 'cat':
        for (const i of n.items) this.emit(i);
        return;
      case 'alt': {
        const jumps: number[] = [];
        n.items.forEach((item, k) => {
          if (k < n.items.length - 1) {
            const split = this.push(OP_SPLIT, 0, 0);
            this.x[split] = split + 1;
            this.emit(item);
            jumps.push(this.push(OP_JMP, 0, 0));
            this.y[split] = this.op.length;
          } else this.emit(item);
        });
        for (const j of jumps) this.x[j] = this.op.length;
        return;
      }
      case 'repeat': {
        for (let k = 0; k < n.min; k++) this.emit(n.sub);
        if (n.max === -1) {
          const split = this.push(OP_SPLIT, 0, 0);
          this.x[split] = split + 1;
          this.emit(n.sub);
          this.push(OP_JMP, split, 0);
          this.y[split] = this.op.length;
          return;
        }
        const exits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          const split = this.push(OP_SPLIT, 0, 0);
          this.x[split] = split + 1;
          exits.push(split);
          this.emit(n.sub);
        }
        for (const s of exits) this.y[s] = this.op.length;
        return;
      }
    }
  }
}

/** The literal a pattern stands for, when it has no operators (outer ^ and $ are fine under full match). */
function literalOf(ast: Node): string | null {
  const items = ast.t === 'cat' ? ast.items.slice() : [ast];
  if (items[0]?.t === 'bol') items.shift();
  if (items[items.length - 1]?.t === 'eol') items.pop();
  let out = '';
  for (const i of items) {
    if (i.t !== 'set' || i.ranges.length !== 2 || i.ranges[0] !== i.ranges[1]) return null;
    out += String.fromCodePoint(i.ranges[0]!);
  }
  return out;
}
