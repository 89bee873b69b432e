// Path normalisation table: what routing, policies and the upstream see for each spelling.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizePath } from '../../src/dataplane/path-normalize.ts';

const CASES: [string, boolean, string | null][] = [
  ['/', false, '/'],
  ['/a/b', false, '/a/b'],
  ['/public/../admin', false, '/admin'],
  ['/public/%2e%2e/admin', false, '/admin'],
  ['/public/%2E%2E/admin', false, '/admin'],
  ['/public/.%2e/admin', false, '/admin'],
  ['/./admin', false, '/admin'],
  ['/a/./b/.', false, '/a/b/'],
  ['/a/b/..', false, '/a/'],
  ['/..', false, '/'],
  ['/../../etc/passwd', false, '/etc/passwd'],
  ['/a/%7Euser', false, '/a/~user'],
  ['/a%41%5a%30%2D%5F', false, '/aAZ0-_'],
  ['/a/%2f/b', false, '/a/%2F/b'],
  ['/a/%2F..%2F/b', false, '/a/%2F..%2F/b'],
  ['/a%20b', false, '/a%20b'],
  ['/a%c3%a9', false, '/a%C3%A9'],
  ['//admin', false, '//admin'],
  ['//admin', true, '/admin'],
  ['/a//b///c/', true, '/a/b/c/'],
  ['/a/..//b', true, '/b'],
  ['/a%zz', false, null],
  ['/a%4', false, null],
  ['/a%', false, null],
  ['*', false, '*'],
  ['http://x/', false, null],
  ['', false, null],
];

test('normalisation table', () => {
  for (const [input, merge, want] of CASES)
    assert.is(normalizePath(input, merge), want, `${input} (mergeSlashes=${merge})`);
});

test('the common path is returned as the same string (no allocation)', () => {
  const p = '/api/v1/users/42';
  assert.ok(Object.is(normalizePath(p), p));
});

test.run();
