// Snapshots using features this data plane does not implement yet are refused, never served
// with the security setting silently dropped.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unsupportedFeature } from '../../src/dataplane/capabilities.ts';
import { render } from '../../src/cli/render.ts';
import type { PoolSnapshot } from '../../src/ir/snapshot.ts';

const base = (): PoolSnapshot => JSON.parse(render(['examples'], 'snapshots', 'edge-storefront/storefront'));

test('a snapshot without later features is served', () => {
  assert.is(unsupportedFeature(base()), null);
});

test('upstream TLS is refused with the field path; the HTTPS listener and route auth are served', () => {
  const tls = base();
  tls.clusters[1]!.tls = { serverName: 'x' };
  assert.match(unsupportedFeature(tls)!, /^clusters\[1\]\.tls: upstream TLS/);
  const listener = base();
  listener.listener.tls = {
    port: 8443,
    certificates: [],
    minVersion: 'TLS1.2',
    redirectHTTP: false,
    clientAuth: null,
  };
  assert.is(unsupportedFeature(listener), null);
});

test.run();
