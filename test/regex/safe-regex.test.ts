import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_STATES, RegexSyntaxError, SafeRegex, checkRegex } from '../../src/regex/index.ts';

// [pattern, input, expected full match]
const MATCHES: [string, string, boolean][] = [
  ['abc', 'abc', true],
  ['abc', 'abcd', false],
  ['abc', 'xabc', false],
  ['', '', true],
  ['', 'a', false],
  ['a.c', 'abc', true],
  ['a.c', 'a\nc', false],
  ['a\\.c', 'a.c', true],
  ['a\\.c', 'abc', false],
  ['\\d+', '0123456789', true],
  ['\\d+', '12a', false],
  ['\\D+', 'abc', true],
  ['\\w+', 'az_AZ09', true],
  ['\\w+', 'a-b', false],
  ['\\W', '-', true],
  ['\\s\\S', ' x', true],
  ['\\s', '\t', true],
  ['[abc]+', 'cab', true],
  ['[a-z0-9-]+', 'shop-42', true],
  ['[a-z]+', 'Shop', false],
  ['[^/]+', 'segment', true],
  ['[^/]+', 'a/b', false],
  ['[\\d.]+', '1.2.3', true],
  ['[]a]+', ']a]', true],
  ['[a-]+', 'a-a', true],
  ['(ab)+', 'ababab', true],
  ['(ab)+', 'aba', false],
  ['(?:ab|cd)*', 'abcdab', true],
  ['(?P<ver>v\\d+)/x', 'v2/x', true],
  ['(?<ver>v\\d+)/x', 'v2/x', true],
  ['cat|dog', 'dog', true],
  ['cat|dog', 'catdog', false],
  ['colou?r', 'color', true],
  ['colou?r', 'colour', true],
  ['a*', '', true],
  ['a+', '', false],
  ['a{3}', 'aaa', true],
  ['a{3}', 'aa', false],
  ['a{2,}', 'aaaaaa', true],
  ['a{2,}', 'a', false],
  ['a{2,4}', 'aaaa', true],
  ['a{2,4}', 'aaaaa', false],
  ['a{0}b', 'b', true],
  ['x{,3}', 'x{,3}', true], // not a valid repeat, so literal, as in RE2
  ['a+?b', 'aab', true],
  ['^/api/.*$', '/api/v1', true],
  ['/api/.*', '/api/', true],
  ['/api/v[0-9]+/users/[0-9]+', '/api/v2/users/17', true],
  ['/api/v[0-9]+/users/[0-9]+', '/api/v2/users/x', false],
  ['a^b', 'ab', false],
  ['a$b', 'ab', false],
  ['\\Aabc\\z', 'abc', true],
  ['\\x41\\x{42}', 'AB', true],
  ['é+', 'ééé', true],
  ['.', '😀', true],
  ['..', '😀', false],
  ['[😀-😂]', '😁', true],
  ['\\t\\n', '\t\n', true],
  ['a\\/b', 'a/b', true],
  ['(a|ab)(c|bcd)(d*)', 'abcd', true],
  ['(a*)*', 'aaaa', true],
  ['(a*)+b', 'aab', true],
  ['(|a)+', 'aaa', true],
];

test('full-match table', () => {
  for (const [pattern, input, want] of MATCHES) {
    const re = SafeRegex.compile(pattern);
    assert.is(re.anchoredFull, true);
    assert.is(re.test(input), want, `${pattern} on ${JSON.stringify(input)}`);
  }
});

test('substring mode when asked for', () => {
  const cases: [string, string, boolean][] = [
    ['b+', 'aaabbbc', true],
    ['^b', 'ab', false],
    ['b$', 'ab', true],
    ['x', 'abc', false],
    ['', 'abc', true],
  ];
  for (const [pattern, input, want] of cases) {
    const re = SafeRegex.compile(pattern, { fullMatch: false });
    assert.is(re.anchoredFull, false);
    assert.is(re.test(input), want, `${pattern} in ${input}`);
  }
});

test('pathological patterns answer correctly (linear time)', () => {
  const input = 'a'.repeat(30) + 'b';
  assert.is(SafeRegex.compile('(a+)+$').test(input), false);
  assert.is(SafeRegex.compile('(a|a)*').test(input), false);
  assert.is(SafeRegex.compile('(a*)*b').test(input), true);
  assert.is(SafeRegex.compile('(a|aa)+c').test('a'.repeat(5000)), false);
  assert.is(SafeRegex.compile('(x+x+)+y').test('x'.repeat(2000)), false);
});

test('a compiled regex can be reused many times', () => {
  const re = SafeRegex.compile('/u/[0-9]+');
  for (let i = 0; i < 100; i++) {
    assert.is(re.test(`/u/${i}`), true);
    assert.is(re.test(`/u/${i}x`), false);
  }
});

// [pattern, fragment of the message, offset]
const REJECTIONS: [string, string, number][] = [
  ['(a', "missing ')'", 0],
  ['a)', "unexpected ')'", 1],
  ['*a', 'missing argument to repetition', 0],
  ['a|+', 'missing argument to repetition', 2],
  ['a**', 'cannot follow another repetition', 2],
  ['a++', 'possessive', 2],
  ['^*', 'cannot follow an anchor', 1],
  ['(a)\\1', 'backreferences are not supported', 3],
  ['(?P<x>a)(?P=x)', 'backreferences are not supported', 8],
  ['\\k<x>', 'backreferences', 0],
  ['(?=a)a', 'lookahead', 0],
  ['(?!a)b', 'lookahead', 0],
  ['x(?<=a)', 'lookbehind', 1],
  ['(?<!a)b', 'lookbehind', 0],
  ['(?i)abc', 'inline flags', 0],
  ['(?<1x>a)', 'invalid capture group name', 3],
  ['[abc', "missing ']'", 0],
  ['[z-a]', 'invalid character class range', 1],
  ['[\\d-z]', 'invalid character class range', 1],
  ['[[:alpha:]]', 'POSIX', 1],
  ['a\\bc', 'word boundary', 1],
  ['\\Bx', 'word boundary', 0],
  ['\\pL', 'Unicode classes', 0],
  ['\\q', 'unknown escape', 0],
  ['ab\\', 'trailing backslash', 2],
  ['\\xZZ', 'invalid \\x escape', 0],
  ['a{1001}', 'exceeds the limit of 1000', 1],
  ['a{5,2}', 'maximum is less than minimum', 1],
  ['(a{1000}){1000}', `limit ${MAX_STATES}`, 0],
  ['x'.repeat(1025), 'limit 1024', 1024],
];

test('rejections carry a message and an offset', () => {
  for (const [pattern, fragment, offset] of REJECTIONS) {
    let caught: unknown;
    try {
      SafeRegex.compile(pattern);
    } catch (err) {
      caught = err;
    }
    assert.instance(caught, RegexSyntaxError, `${pattern} should be rejected`);
    const err = caught as RegexSyntaxError;
    assert.ok(err.message.includes(fragment), `${pattern}: "${err.message}" should mention "${fragment}"`);
    assert.is(err.offset, offset, `${pattern}: offset`);
    assert.ok(err.message.includes(`offset ${offset}`));
    assert.is(checkRegex(pattern), err.message);
  }
});

test('checkRegex returns null for accepted patterns', () => {
  for (const [pattern] of MATCHES) assert.is(checkRegex(pattern), null, pattern);
});

test.run();
