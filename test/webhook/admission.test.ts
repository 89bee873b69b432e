import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { admissionProblems, sliceFor } from '../../src/compiler/admission.ts';
import { compile } from '../../src/compiler/index.ts';
import { emptyBag } from '../../src/compiler/resources.ts';
import { policy, pool, route, sampleWorld, service } from './world.ts';

test('schema and CEL problems come from analyzeObject with dot paths', () => {
  const bad = route('team-b', 'bad');
  bad.spec.rules[0].backends[0].weight = -1;
  const { problems } = admissionProblems(bad, sampleWorld(), 'CREATE');
  assert.ok(
    problems.some((p) => p.path === 'spec.rules[0].backends[0].weight'),
    JSON.stringify(problems),
  );
});

test('a route claiming a host+path an older route of another namespace serves is denied, naming the winner', () => {
  const r = route('team-b', 'copycat', { created: '2026-05-01T00:00:00Z' });
  const { problems, warnings } = admissionProblems(r, sampleWorld(), 'CREATE');
  assert.is(problems.length, 1);
  assert.is(problems[0]!.path, 'spec.rules[0].matches[0].path');
  assert.match(problems[0]!.message, /already served by older RouteSplit team-a\/shop/);
  assert.equal(warnings, []);
});

test('a CREATE without creationTimestamp is the newest object and loses the tie', () => {
  const r = route('team-b', 'aaa-first-by-name');
  delete r.metadata.creationTimestamp;
  assert.is(admissionProblems(r, sampleWorld(), 'CREATE').problems[0]?.message.includes('team-a/shop'), true);
});

test('a CREATE stamped in the same second as the holder still loses the tie (timestamps have 1 s resolution)', () => {
  const world = sampleWorld();
  const holder = world.routeSplits.find((x) => x.metadata.name === 'shop')!;
  const r = route('team-b', 'aaa-first-by-name', { created: holder.metadata.creationTimestamp });
  assert.match(admissionProblems(r, world, 'CREATE').problems[0]?.message ?? '', /team-a\/shop/);
  const p = policy(
    'team-a',
    'aaa-second',
    { kind: 'RouteSplit', name: 'shop' },
    world.rateLimitPolicies[0]!.metadata.creationTimestamp,
  );
  assert.is(admissionProblems(p, world, 'CREATE').problems.length, 1);
});

test('the same namespace may share host+path; another path is fine', () => {
  assert.equal(
    admissionProblems(route('team-a', 'second', { created: '2026-05-01T00:00:00Z' }), sampleWorld(), 'CREATE')
      .problems,
    [],
  );
  assert.equal(
    admissionProblems(route('team-b', 'other', { path: '/other' }), sampleWorld(), 'CREATE').problems,
    [],
  );
});

test('updating the older route itself never conflicts with its own stored version', () => {
  const shop = sampleWorld().routeSplits[0];
  shop.spec.rules[0].backends[0].weight = 5;
  assert.equal(admissionProblems(shop, sampleWorld(), 'UPDATE'), { problems: [], warnings: [] });
});

test('a route claiming a pool that does not allow its namespace is denied with NotAllowedByPool', () => {
  const r = route('team-b', 'sneaky', { pool: 'private', path: '/x' });
  const { problems } = admissionProblems(r, sampleWorld(), 'CREATE');
  assert.is(problems.length, 1);
  assert.is(problems[0]!.path, 'spec.poolRef');
  assert.match(problems[0]!.message, /IngressPool edge\/private does not allow routes from namespace team-b/);
});

test('PoolNotFound and BackendNotFound are warnings, never denials (GitOps order)', () => {
  const r = route('team-b', 'early', { pool: 'later', backend: 'missing', path: '/y' });
  const a = admissionProblems(r, sampleWorld(), 'CREATE');
  assert.equal(a.problems, []);
  assert.is(a.warnings[0]!.path, 'spec.poolRef');
  assert.match(a.warnings[0]!.message, /IngressPool edge\/later not found/);
  const b = admissionProblems(
    route('team-b', 'svc-later', { backend: 'missing', path: '/z' }),
    sampleWorld(),
    'CREATE',
  );
  assert.equal(b.problems, []);
  assert.is(b.warnings[0]!.path, 'spec.rules[0].backends[0]');
  assert.match(b.warnings[0]!.message, /Service team-b\/missing not found/);
});

test('a second RateLimitPolicy on the same target is denied; another rule target is fine', () => {
  const second = policy('team-a', 'zz-second', { kind: 'RouteSplit', name: 'shop' }, '2026-06-01T00:00:00Z');
  const { problems } = admissionProblems(second, sampleWorld(), 'CREATE');
  assert.is(problems.length, 1);
  assert.is(problems[0]!.path, 'spec.targetRef');
  assert.match(problems[0]!.message, /already has RateLimitPolicy team-a\/shop-limit/);
  const perRule = policy('team-a', 'per-rule', { kind: 'RouteSplit', name: 'shop', rule: 'main' });
  assert.equal(admissionProblems(perRule, sampleWorld(), 'CREATE').problems, []);
});

test('updating the policy that holds the target is allowed', () => {
  const held = sampleWorld().rateLimitPolicies[0];
  held.spec.shadow = true;
  assert.equal(admissionProblems(held, sampleWorld(), 'UPDATE').problems, []);
});

test('a policy on a missing target is a warning', () => {
  const p = policy('team-b', 'orphan', { kind: 'RouteSplit', name: 'nope' });
  const a = admissionProblems(p, sampleWorld(), 'CREATE');
  assert.equal(a.problems, []);
  assert.match(a.warnings[0]!.message, /RouteSplit team-b\/nope not found/);
});

test('tightening a pool warns about the routes it would cut off, never denies', () => {
  const p = pool('edge', 'shared', 'Same');
  const a = admissionProblems(p, sampleWorld(), 'UPDATE');
  assert.equal(a.problems, []);
  assert.is(a.warnings.length, 1);
  assert.match(a.warnings[0]!.message, /RouteSplit team-a\/shop cannot attach/);
});

test('the slice gives the same verdict as compiling the whole world', () => {
  const world = sampleWorld();
  for (let i = 0; i < 50; i++) {
    world.ingressPools.push(pool('edge', `p${i}`));
    world.routeSplits.push(route('team-b', `r${i}`, { pool: `p${i}` }));
  }
  const incoming = route('team-b', 'copycat', { created: '2026-05-01T00:00:00Z' });
  const slice = sliceFor(world, 'edge/shared', incoming);
  assert.equal(
    slice.ingressPools.map((p) => p.metadata.name),
    ['shared'],
  );
  assert.equal(slice.routeSplits.map((r) => r.metadata.name).sort(), ['copycat', 'shop']);
  const whole = { ...world, routeSplits: [...world.routeSplits, incoming] };
  assert.equal(
    compile(slice).statuses.routeSplits['team-b/copycat'],
    compile(whole).statuses.routeSplits['team-b/copycat'],
  );
});

test('an empty world: the route is admitted with a PoolNotFound warning', () => {
  const bag = emptyBag();
  bag.services = [service('team-a', 'api')];
  const a = admissionProblems(route('team-a', 'first'), bag, 'CREATE');
  assert.equal(a.problems, []);
  assert.is(a.warnings.length, 1);
});

test.run();
