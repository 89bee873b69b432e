// Key values: client address masks for both families (canonical spellings, IPv4-mapped addresses,
// embedded IPv4, zones, garbage from a trusted proxy) and query parameter lookup.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maskIP, queryValue } from '../../src/dataplane/ratelimit/keys.ts';
import { clientIPPrefixes } from '../../src/compiler/ratelimits.ts';

test('IPv4: whole address and masks', () => {
  assert.is(maskIP('192.0.2.77', 32, 128), '192.0.2.77');
  assert.is(maskIP('192.0.2.77', 24, 128), '192.0.2.0/24');
  assert.is(maskIP('192.0.2.77', 0, 128), '0.0.0.0/0');
  assert.is(maskIP('192.0.02.7', 32, 128), '192.0.2.7', 'one spelling per address');
  assert.is(maskIP('::ffff:192.0.2.77', 24, 64), '192.0.2.0/24', 'IPv4-mapped counts as IPv4');
});

test('IPv6: canonical groups, masks, embedded IPv4, zones', () => {
  assert.is(maskIP('2001:db8::1', 32, 128), '2001:db8:0:0:0:0:0:1');
  assert.is(maskIP('2001:0DB8:0:0::1', 32, 128), '2001:db8:0:0:0:0:0:1');
  assert.is(maskIP('2001:db8:1:2:3:4:5:6', 32, 64), '2001:db8:1:2:0:0:0:0/64');
  assert.is(maskIP('2001:db8:1:2:3:4:5:6', 32, 56), '2001:db8:1:0:0:0:0:0/56');
  assert.is(maskIP('2001:db8:1:2ff:3:4:5:6', 32, 56), '2001:db8:1:200:0:0:0:0/56');
  assert.is(maskIP('::1', 32, 128), '0:0:0:0:0:0:0:1');
  assert.is(maskIP('64:ff9b::192.0.2.1', 32, 128), '64:ff9b:0:0:0:0:c000:201');
  assert.is(maskIP('fe80::1%eth0', 32, 128), 'fe80:0:0:0:0:0:0:1');
});

test('text that is not an address is used as written, bounded', () => {
  assert.is(maskIP('unknown', 24, 64), 'unknown');
  assert.is(maskIP('1:2:3', 24, 64), '1:2:3');
  assert.is(maskIP('1::2::3', 24, 64), '1::2::3');
  assert.is(maskIP('x'.repeat(100), 24, 64).length, 64);
});

test('prefixLength per family', () => {
  assert.equal(clientIPPrefixes(undefined), { ipv4Prefix: 32, ipv6Prefix: 128 });
  assert.equal(clientIPPrefixes(24), { ipv4Prefix: 24, ipv6Prefix: 128 });
  assert.equal(clientIPPrefixes(32), { ipv4Prefix: 32, ipv6Prefix: 128 });
  assert.equal(clientIPPrefixes(64), { ipv4Prefix: 32, ipv6Prefix: 64 });
});

test('query parameters: first value, percent-decoded, flags without a value', () => {
  assert.is(queryValue('a=1&api_key=k%31&api_key=k2', 'api_key'), 'k1');
  assert.is(queryValue('flag&x=1', 'flag'), '');
  assert.is(queryValue('x=1', 'api_key'), undefined);
  assert.is(queryValue('', 'x'), undefined);
  assert.is(queryValue('a%5Fb=v', 'a_b'), 'v');
});

test.run();
