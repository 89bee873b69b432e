// The two matchers (lazy DFA for full match, Pike VM for substring search) against each other and
// against JavaScript's RegExp, on seeded random patterns over a tiny alphabet where the RE2 subset
// and JavaScript agree.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng } from '../../src/dataplane/balancer/prng.ts';
import { compileProgram } from '../../src/regex/compiler.ts';
import { LazyDfa, MAX_DFA_STATES } from '../../src/regex/lazy-dfa.ts';
import { parse } from '../../src/regex/parser.ts';
import { PikeVM } from '../../src/regex/pike-vm.ts';
import { SafeRegex } from '../../src/regex/index.ts';

const rng = new Prng(20261123);
const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)]!;

function atom(depth: number): string {
  const r = rng.int(10);
  if (depth > 0 && r < 2) return `(${pattern(depth - 1)})`;
  if (depth > 0 && r < 3) return `(?:${pattern(depth - 1)})`;
  return pick(['a', 'b', 'c', '.', '[ab]', '[^a]', '[a-b]', '\\w', 'a', 'b']);
}
function pattern(depth: number): string {
  const parts: string[] = [];
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    let a = atom(depth);
    if (rng.int(3) === 0) a += pick(['*', '+', '?', '{2}', '{1,3}', '{0,2}', '{2,}', '*?', '+?']);
    parts.push(a);
  }
  if (rng.int(20) === 0) parts.unshift('^');
  if (rng.int(20) === 0) parts.push('$');
  const s = parts.join('');
  return rng.int(4) === 0 ? `${s}|${pattern(Math.max(0, depth - 1))}` : s;
}
function input(): string {
  let s = '';
  const n = rng.int(12);
  for (let i = 0; i < n; i++) s += pick(['a', 'b', 'c']);
  return s;
}

test('random patterns: lazy DFA = Pike VM = RegExp (full match)', () => {
  let checked = 0;
  let matched = 0;
  for (let p = 0; p < 300; p++) {
    const src = pattern(2);
    const prog = compileProgram(parse(src));
    const dfa = new LazyDfa(prog);
    const vm = new PikeVM(prog);
    const js = new RegExp(`^(?:${src})$`);
    const re = SafeRegex.compile(src);
    for (let i = 0; i < 30; i++) {
      const s = input();
      const want = js.test(s);
      assert.is(dfa.fullMatch(s), want, `DFA /${src}/ on "${s}"`);
      assert.is(vm.run(s, true), want, `VM /${src}/ on "${s}"`);
      assert.is(re.test(s), want, `SafeRegex /${src}/ on "${s}"`);
      checked++;
      if (want) matched++;
    }
  }
  assert.is(checked, 9000);
  assert.ok(matched > 900 && matched < 8100, `a useful mix of matches and misses (${matched})`);
});

test('random patterns: substring mode = RegExp search', () => {
  for (let p = 0; p < 200; p++) {
    const src = pattern(2);
    const re = SafeRegex.compile(src, { fullMatch: false });
    const js = new RegExp(src);
    for (let i = 0; i < 20; i++) {
      const s = input();
      assert.is(re.test(s), js.test(s), `/${src}/ in "${s}"`);
    }
  }
});

test('a pattern whose DFA outgrows the cache still answers correctly', () => {
  // "the 13th character from the end is an a" needs 2^13 DFA states, far more than the cache holds
  const src = '[ab]*a[ab]{12}';
  const prog = compileProgram(parse(src));
  const dfa = new LazyDfa(prog);
  const vm = new PikeVM(prog);
  const js = new RegExp(`^(?:${src})$`);
  assert.ok(MAX_DFA_STATES < 2 ** 13);
  for (let i = 0; i < 200; i++) {
    let s = '';
    for (let k = 0; k < 100; k++) s += rng.int(2) ? 'a' : 'b';
    const want = js.test(s);
    assert.is(dfa.fullMatch(s), want, s);
    assert.is(vm.run(s, true), want, s);
  }
});

test('non-ASCII input on the DFA path', () => {
  const re = SafeRegex.compile('/wiki/[^/]+');
  assert.is(re.test('/wiki/Zürich'), true);
  assert.is(re.test('/wiki/東京/x'), false);
  assert.is(SafeRegex.compile('[a-z]+😀').test('abc😀'), true);
  assert.is(SafeRegex.compile('\\w+').test('straße'), false);
});

test.run();
