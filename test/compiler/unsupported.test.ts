// The compiler's gate for fields the data plane does not enforce yet: each use is named by its field path.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  unsupportedPoolFields,
  unsupportedRouteFields,
  type GatedFeature,
} from '../../src/compiler/unsupported.ts';

const all = new Set<GatedFeature>(['listener.tls', 'auth.jwt', 'auth.external', 'backend.tls']);

test('every gated route field is reported at its own path', () => {
  const rules: any[] = [
    { backends: [{ name: 'a', port: 80 }] },
    {
      auth: { jwt: { issuer: 'x', jwks: {} }, external: { url: 'http://a' } },
      backends: [
        { name: 'a', port: 80 },
        { name: 'b', port: 80, tls: { serverName: 'b' } },
      ],
    },
  ];
  const lines = unsupportedRouteFields(rules, all);
  assert.equal(
    lines.map((l) => l.split(':')[0]),
    ['spec.rules[1].auth.jwt', 'spec.rules[1].auth.external', 'spec.rules[1].backends[1].tls'],
  );
  assert.equal(unsupportedRouteFields(rules, new Set()), []);
});

test('the HTTPS listener is reported at spec.listener.tls', () => {
  const spec: any = { listener: { tls: { port: 8443, certificates: [] } } };
  assert.match(unsupportedPoolFields(spec, all)[0]!, /^spec\.listener\.tls: the HTTPS listener/);
  assert.equal(unsupportedPoolFields(spec, new Set()), []);
  assert.equal(unsupportedPoolFields({ listener: {} } as any, all), []);
});

test.run();
