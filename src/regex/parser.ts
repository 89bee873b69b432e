// Parser for the RE2-compatible subset Bulkhead accepts in path, header and query regexes.
// It produces a small AST that compiler.ts turns into a Thompson NFA. Anything that would need
// backtracking (backreferences, lookaround) or that we do not implement is rejected here with the
// offset of the offending character, so the webhook and the compiler can tell users exactly what
// to change.

import { RegexSyntaxError } from './errors.ts';
import { classForEscape, negateRanges, normalizeRanges, type Ranges } from './charclass.ts';

export const MAX_PATTERN_LENGTH = 1024;
export const MAX_REPEAT = 1000;

export type Node =
  | { t: 'empty' }
  | { t: 'set'; ranges: Ranges }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'repeat'; sub: Node; min: number; max: number } // max -1 = unbounded
  | { t: 'bol' }
  | { t: 'eol' };

const DOT: Ranges = negateRanges([0x0a, 0x0a]); // like RE2 without the s flag: `.` does not match \n

export function parse(pattern: string): Node {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new RegexSyntaxError(
      `pattern is ${pattern.length} characters long (limit ${MAX_PATTERN_LENGTH})`,
      MAX_PATTERN_LENGTH,
    );
  }
  const p = new Parser(pattern);
  const node = p.parseAlt();
  if (p.pos < pattern.length) {
    // only an unmatched ')' can stop parseAlt early
    throw new RegexSyntaxError("unexpected ')' without a matching '('", p.pos);
  }
  return node;
}

class Parser {
  pos = 0;
  depth = 0;
  /** set by classAtom: the member was \d, \w, ... (cannot be a range end) */
  lastWasClassEscape = false;
  constructor(readonly src: string) {}

  parseAlt(): Node {
    const items: Node[] = [this.parseConcat()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      items.push(this.parseConcat());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  parseConcat(): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '|' || c === ')') break;
      items.push(this.parseQuantifiers(this.parseAtom()));
    }
    if (items.length === 0) return { t: 'empty' };
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  parseQuantifiers(atom: Node): Node {
    let quantified = false;
    for (;;) {
      const c = this.src[this.pos];
      const at = this.pos;
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, -1];
      else if (c === '+') [min, max] = [1, -1];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const bounds = this.tryRepeatBounds();
        if (!bounds) return atom; // RE2 treats a '{' that is not a valid repeat as a literal
        [min, max] = bounds;
      } else return atom;
      if (quantified) {
        throw new RegexSyntaxError(`repetition operator '${c}' cannot follow another repetition`, at);
      }
      if (atom.t === 'bol' || atom.t === 'eol') {
        throw new RegexSyntaxError(`repetition operator '${c}' cannot follow an anchor`, at);
      }
      if (c !== '{') this.pos++;
      // lazy quantifiers match the same set of strings under full-match semantics, so `?` is accepted
      if (this.src[this.pos] === '?') this.pos++;
      else if (this.src[this.pos] === '+') {
        throw new RegexSyntaxError('possessive quantifiers are not supported', this.pos);
      }
      atom = { t: 'repeat', sub: atom, min, max };
      quantified = true;
    }
  }

  /** `{m}`, `{m,}`, `{m,n}`; returns null (position unchanged) when the text is not a repeat. */
  tryRepeatBounds(): [number, number] | null {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 16));
    if (!m) return null;
    const at = this.pos;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT) {
      throw new RegexSyntaxError(`repeat count in '${m[0]}' exceeds the limit of ${MAX_REPEAT}`, at);
    }
    if (max !== -1 && max < min) {
      throw new RegexSyntaxError(`invalid repeat '${m[0]}': maximum is less than minimum`, at);
    }
    this.pos += m[0].length;
    return [min, max];
  }

  parseAtom(): Node {
    const src = this.src;
    const at = this.pos;
    const c = src[at]!;
    switch (c) {
      case '(':
        return this.parseGroup();
      case '[':
        return { t: 'set', ranges: this.parseClass() };
      case '.':
        this.pos++;
        return { t: 'set', ranges: DOT };
      case '^':
        this.pos++;
        return { t: 'bol' };
      case '$':
        this.pos++;
        return { t: 'eol' };
      case '\\':
        return this.parseEscapeAtom();
      case '*':
      case '+':
      case '?':
        throw new RegexSyntaxError(`missing argument to repetition operator '${c}'`, at);
      default: {
        const cp = src.codePointAt(at)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return { t: 'set', ranges: [cp, cp] };
      }
    }
  }

  parseGroup(): Node {
    const src = this.src;
    const open = this.pos;
    this.pos++;
    if (src[this.pos] === '?') {
      const rest = src.slice(this.pos, this.pos + 4);
      if (rest.startsWith('?:')) this.pos += 2;
      else if (rest.startsWith('?=') || rest.startsWith('?!')) {
        throw new RegexSyntaxError('lookahead assertions are not supported', open);
      } else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
        throw new RegexSyntaxError('lookbehind assertions are not supported', open);
      } else if (rest.startsWith('?P<') || rest.startsWith('?<')) {
        // named capture: the name is irrelevant for matching, but it must be well formed
        const nameStart = this.pos + (rest.startsWith('?P<') ? 3 : 2);
        const m = /^[A-Za-z_][A-Za-z0-9_]*>/.exec(src.slice(nameStart, nameStart + 64));
        if (!m) throw new RegexSyntaxError('invalid capture group name', nameStart);
        this.pos = nameStart + m[0].length;
      } else if (rest.startsWith('?P=')) {
        throw new RegexSyntaxError('backreferences are not supported', open);
      } else {
        throw new RegexSyntaxError(
          `unsupported group syntax '(${rest.slice(0, 2)}' (inline flags and other extensions are not supported)`,
          open,
        );
      }
    }
    if (++this.depth > 100) throw new RegexSyntaxError('groups nested more than 100 deep', open);
    const inner = this.parseAlt();
    this.depth--;
    if (src[this.pos] !== ')') throw new RegexSyntaxError("missing ')' for the group opened here", open);
    this.pos++;
    return inner;
  }

  parseEscapeAtom(): Node {
    const at = this.pos;
    const e = this.src[at + 1];
    if (e === undefined) throw new RegexSyntaxError('trailing backslash at end of pattern', at);
    if (e === 'A') {
      this.pos += 2;
      return { t: 'bol' };
    }
    if (e === 'z') {
      this.pos += 2;
      return { t: 'eol' };
    }
    return { t: 'set', ranges: this.parseEscape(false) };
  }

  /** An escape sequence starting at `\`, as a set of ranges; advances past it. */
  parseEscape(inClass: boolean): Ranges {
    const src = this.src;
    const at = this.pos;
    const e = src[at + 1]!;
    this.pos += 2;
    const cls = classForEscape(e);
    if (cls) return cls;
    switch (e) {
      case 'n':
        return [0x0a, 0x0a];
      case 'r':
        return [0x0d, 0x0d];
      case 't':
        return [0x09, 0x09];
      case 'f':
        return [0x0c, 0x0c];
      case 'v':
        return [0x0b, 0x0b];
      case 'a':
        return [0x07, 0x07];
      case '0':
        return [0, 0];
      case 'x': {
        const m = /^(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(src.slice(this.pos, this.pos + 8));
        if (!m) throw new RegexSyntaxError('invalid \\x escape: expected two hex digits or \\x{...}', at);
        this.pos += m[0].length;
        const cp = parseInt(m[1] ?? m[2]!, 16);
        if (cp > 0x10ffff) throw new RegexSyntaxError('\\x{...} code point is beyond U+10FFFF', at);
        return [cp, cp];
      }
    }
    if (e >= '1' && e <= '9') throw new RegexSyntaxError(`backreferences are not supported (\\${e})`, at);
    if (e === 'k') throw new RegexSyntaxError('backreferences are not supported (\\k)', at);
    if (e === 'b' && !inClass)
      throw new RegexSyntaxError('word boundary assertions (\\b) are not supported', at);
    if (e === 'B') throw new RegexSyntaxError('word boundary assertions (\\B) are not supported', at);
    if (e === 'p' || e === 'P') throw new RegexSyntaxError(`Unicode classes (\\${e}) are not supported`, at);
    if (/[A-Za-z0-9]/.test(e)) throw new RegexSyntaxError(`unknown escape sequence '\\${e}'`, at);
    // any escaped punctuation or other non-word character stands for itself
    const cp = src.codePointAt(at + 1)!;
    if (cp > 0xffff) this.pos++;
    return [cp, cp];
  }

  parseClass(): Ranges {
    const src = this.src;
    const open = this.pos;
    this.pos++;
    let negated = false;
    if (src[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const ranges: number[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= src.length)
        throw new RegexSyntaxError("missing ']' for the character class opened here", open);
      const c = src[this.pos];
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && src[this.pos + 1] === ':') {
        throw new RegexSyntaxError('POSIX character classes like [:alpha:] are not supported', this.pos);
      }
      const itemAt = this.pos;
      const lo = this.classAtom();
      if (src[this.pos] !== '-' || src[this.pos + 1] === ']' || this.pos + 1 >= src.length) {
        ranges.push(...lo);
        continue;
      }
      // a range `lo-hi`: both ends must be single characters
      this.pos++;
      const hi = this.classAtom();
      if (this.lastWasClassEscape || lo.length !== 2 || lo[0] !== lo[1]) {
        throw new RegexSyntaxError(`invalid character class range '${src.slice(itemAt, this.pos)}'`, itemAt);
      }
      if (hi[0]! < lo[0]!)
        throw new RegexSyntaxError(`invalid character class range '${src.slice(itemAt, this.pos)}'`, itemAt);
      ranges.push(lo[0]!, hi[0]!);
    }
    this.pos++;
    const norm = normalizeRanges(ranges);
    return negated ? negateRanges(norm) : norm;
  }

  /** One member of a class: a single character (as [cp, cp]) or a class escape like \d. */
  classAtom(): Ranges {
    const src = this.src;
    this.lastWasClassEscape = false;
    if (src[this.pos] === '\\') {
      this.lastWasClassEscape = /[dDwWsS]/.test(src[this.pos + 1] ?? '');
      if (this.pos + 1 >= src.length)
        throw new RegexSyntaxError('trailing backslash at end of pattern', this.pos);
      if (src[this.pos + 1] === 'b') {
        this.pos += 2;
        return [0x08, 0x08]; // inside a class \b is backspace, as in RE2
      }
      return this.parseEscape(true);
    }
    const cp = src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return [cp, cp];
  }
}
