// Character sets as sorted, non-overlapping inclusive code point ranges [lo0, hi0, lo1, hi1, ...],
// plus the Perl class escapes RE2 supports (ASCII-only, as in RE2).

export type Ranges = number[];

export const MAX_CODE_POINT = 0x10ffff;

const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
// RE2's \s is [\t\n\f\r ] (no \v)
const SPACE: Ranges = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];

export function classForEscape(e: string): Ranges | null {
  switch (e) {
    case 'd':
      return DIGIT;
    case 'D':
      return negateRanges(DIGIT);
    case 'w':
      return WORD;
    case 'W':
      return negateRanges(WORD);
    case 's':
      return SPACE;
    case 'S':
      return negateRanges(SPACE);
    default:
      return null;
  }
}

/** Sorts and merges overlapping or adjacent ranges. */
export function normalizeRanges(r: Ranges): Ranges {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1]! + 1) {
      if (hi > out[n - 1]!) out[n - 1] = hi;
    } else out.push(lo, hi);
  }
  return out;
}

/** Complement of normalized ranges within [0, MAX_CODE_POINT]. */
export function negateRanges(r: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1);
    next = r[i + 1]! + 1;
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
  return out;
}
