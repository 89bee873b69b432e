// The snapshot guard covers the edge parts: every compiler golden passes it (TLS listener, JWT,
// external auth, upstream TLS included), and a malformed edge field is refused with its path.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bagFromDocuments, compile } from '../../src/compiler/index.ts';
import { checkSnapshotShape } from '../../src/ir/snapshot-validate.ts';
import type { PoolSnapshot } from '../../src/ir/snapshot.ts';
import { goldenCases } from '../golden.ts';

const DIR = new URL('../fixtures/compiler/', import.meta.url).pathname;
const all: PoolSnapshot[] = goldenCases(DIR).flatMap((c) =>
  Object.values(compile(bagFromDocuments(c.inputDocs)).snapshots),
);
const find = (pred: (s: PoolSnapshot) => boolean) => structuredClone(all.find(pred)!);

test('every compiled snapshot passes, edge features included', () => {
  for (const s of all) assert.is(checkSnapshotShape(s), null, s.pool.name);
  assert.ok(all.some((s) => s.listener.tls !== null));
  assert.ok(all.some((s) => s.routes.some((r) => r.auth?.jwt && r.auth.external)));
  assert.ok(all.some((s) => s.clusters.some((c) => c.tls !== null)));
});

test('malformed edge fields are refused with their path', () => {
  const l = find((s) => s.listener.tls !== null);
  (l.listener.tls as any).minVersion = 'SSLv3';
  assert.is(checkSnapshotShape(l), 'listener.tls.minVersion: must be TLS1.2 or TLS1.3');

  const j = find((s) => s.routes.some((r) => r.auth?.jwt));
  const i = j.routes.findIndex((r) => r.auth?.jwt);
  (j.routes[i]!.auth!.jwt!.jwks as any).secretRef = { namespace: 'x', name: 'y', key: 'k' };
  assert.match(
    checkSnapshotShape(j)!,
    new RegExp(`^routes\\[${i}\\]\\.auth\\.jwt\\.jwks: needs exactly one`),
  );

  const e = find((s) => s.routes.some((r) => r.auth?.external));
  const k = e.routes.findIndex((r) => r.auth?.external);
  (e.routes[k]!.auth!.external as any).failureMode = 'Maybe';
  assert.match(checkSnapshotShape(e)!, /\.auth\.external\.failureMode: must be Open or Closed$/);

  const u = find((s) => s.clusters.some((c) => c.tls !== null));
  const n = u.clusters.findIndex((c) => c.tls !== null);
  (u.clusters[n]!.tls as any).caSecretRef = { name: 'no-namespace' };
  assert.is(checkSnapshotShape(u), `clusters[${n}].tls.caSecretRef: needs namespace and name`);
});

test.run();
