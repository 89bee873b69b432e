// Host validation table for the HTTP/1.1 engine's head rules (RFC 9110 §7.2 uri-host [":" port]).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validHost } from '../../src/dataplane/http1/head.ts';

const VALID = [
  'a',
  'a.example',
  'a.example:8080',
  '127.0.0.1',
  '127.0.0.1:80',
  '[::1]',
  '[::1]:443',
  'a_b',
  'a:',
];
const INVALID = [
  '',
  'a/b',
  'a?b',
  'a#b',
  'u@a',
  'a b',
  'a\\b',
  'a:b',
  'a:123456',
  '[::1',
  '[]',
  '[::1]x',
  ':80',
  'a:8:8',
  'ä.example',
  '[g::1]',
];

test('Host values', () => {
  for (const h of VALID) assert.ok(validHost(h), `valid: ${h}`);
  for (const h of INVALID) assert.not.ok(validHost(h), `invalid: ${JSON.stringify(h)}`);
});

test.run();
