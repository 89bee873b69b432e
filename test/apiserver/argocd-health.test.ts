// The Argo CD health scripts of examples/argocd/health-checks.yaml, run in fengari (a Lua VM in
// JS) on objects shaped like the operator's status. Argo CD runs gopher-lua (Lua 5.1); the
// scripts keep to what both dialects share.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'yaml';
import { REPO } from './cluster.ts';

const { lua, lauxlib, lualib, to_luastring } = createRequire(import.meta.url)('fengari');
const cm = parse(readFileSync(`${REPO}examples/argocd/health-checks.yaml`, 'utf8'));
const script = (kind: string): string => cm.data[`resource.customizations.health.bulkhead.dev_${kind}`];

/** JSON value → Lua value on the stack (objects and arrays become tables, arrays 1-based). */
function push(L: any, v: unknown): void {
  if (v === null || v === undefined) lua.lua_pushnil(L);
  else if (typeof v === 'boolean') lua.lua_pushboolean(L, v);
  else if (typeof v === 'number') Number.isInteger(v) ? lua.lua_pushinteger(L, v) : lua.lua_pushnumber(L, v);
  else if (typeof v === 'string') lua.lua_pushstring(L, to_luastring(v));
  else if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((item, i) => {
      push(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    lua.lua_createtable(L, 0, 0);
    for (const [k, item] of Object.entries(v as object)) {
      push(L, item);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  }
}

function health(kind: string, obj: unknown): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  push(L, obj);
  lua.lua_setglobal(L, to_luastring('obj'));
  if (
    lauxlib.luaL_loadstring(L, to_luastring(script(kind))) !== lua.LUA_OK ||
    lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK
  ) {
    throw new Error(`${kind} health script failed: ${lua.lua_tojsstring(L, -1)}`);
  }
  const field = (name: string) => {
    lua.lua_getfield(L, -1, to_luastring(name));
    const s = lua.lua_tojsstring(L, -1);
    lua.lua_pop(L, 1);
    return s;
  };
  return { status: field('status'), message: field('message') };
}

const cond = (type: string, status: string, reason: string, message: string, observedGeneration = 2) => ({
  type,
  status,
  reason,
  message,
  observedGeneration,
});
const pool = (status?: object) => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'IngressPool',
  metadata: { name: 'p', generation: 2 },
  ...(status ? { status } : {}),
});

test('argocd-cm patch holds one script per kind', () => {
  assert.is(cm.kind, 'ConfigMap');
  assert.is(cm.metadata.name, 'argocd-cm');
  assert.equal(
    Object.keys(cm.data).sort(),
    ['IngressPool', 'RateLimitPolicy', 'RouteSplit'].map(
      (k) => `resource.customizations.health.bulkhead.dev_${k}`,
    ),
  );
});

test('IngressPool: Progressing without status or when observedGeneration is behind', () => {
  assert.is(health('IngressPool', pool()).status, 'Progressing');
  const behind = health(
    'IngressPool',
    pool({ observedGeneration: 1, conditions: [cond('Accepted', 'True', 'Accepted', 'ok', 1)] }),
  );
  assert.equal(behind, {
    status: 'Progressing',
    message: 'Waiting for the operator to observe generation 2',
  });
  const noProgrammed = health(
    'IngressPool',
    pool({ observedGeneration: 2, conditions: [cond('Accepted', 'True', 'Accepted', 'ok')] }),
  );
  assert.equal(noProgrammed, { status: 'Progressing', message: 'Waiting for condition Programmed' });
});

test('IngressPool: Healthy when Accepted and Programmed are True', () => {
  const h = health(
    'IngressPool',
    pool({
      observedGeneration: 2,
      conditions: [
        cond('Accepted', 'True', 'Accepted', 'pool accepted'),
        cond('Programmed', 'True', 'Programmed', '3/3 replicas run sha256:ab'),
      ],
    }),
  );
  assert.equal(h, { status: 'Healthy', message: '3/3 replicas run sha256:ab' });
});

test('IngressPool: Degraded with the message of the False condition', () => {
  const invalid = health(
    'IngressPool',
    pool({
      observedGeneration: 2,
      conditions: [cond('Accepted', 'False', 'Invalid', 'spec.listener.port: must be <= 65535')],
    }),
  );
  assert.equal(invalid, {
    status: 'Degraded',
    message: 'Accepted Invalid: spec.listener.port: must be <= 65535',
  });
  const notProgrammed = health(
    'IngressPool',
    pool({
      observedGeneration: 2,
      conditions: [
        cond('Accepted', 'True', 'Accepted', 'ok'),
        cond('Programmed', 'False', 'Nacked', 'replica x rejected config'),
      ],
    }),
  );
  assert.is(notProgrammed.status, 'Degraded');
  assert.match(notProgrammed.message, /replica x rejected config/);
});

const route = (parents?: object[]) => ({
  kind: 'RouteSplit',
  metadata: { name: 'r', generation: 2 },
  ...(parents ? { status: { parents } } : {}),
});
const parent = (...conditions: object[]) => ({ poolRef: { name: 'p', namespace: 'edge' }, conditions });

test('RouteSplit: Progressing, Healthy, Degraded', () => {
  assert.is(health('RouteSplit', route()).status, 'Progressing');
  assert.is(health('RouteSplit', route([])).status, 'Progressing');
  assert.is(
    health('RouteSplit', route([parent(cond('Accepted', 'True', 'Accepted', 'ok', 1))])).status,
    'Progressing',
  );
  assert.is(
    health(
      'RouteSplit',
      route([
        parent(
          cond('Accepted', 'True', 'Accepted', 'ok'),
          cond('ResolvedRefs', 'True', 'ResolvedRefs', 'ok'),
        ),
      ]),
    ).status,
    'Healthy',
  );
  const conflict = health(
    'RouteSplit',
    route([
      parent(
        cond(
          'Accepted',
          'False',
          'Conflict',
          'host a path PathPrefix / is already served by older RouteSplit x/y',
        ),
      ),
    ]),
  );
  assert.equal(conflict, {
    status: 'Degraded',
    message: 'Accepted Conflict: host a path PathPrefix / is already served by older RouteSplit x/y',
  });
  const missing = health(
    'RouteSplit',
    route([
      parent(
        cond('Accepted', 'True', 'Accepted', 'ok'),
        cond('ResolvedRefs', 'False', 'BackendNotFound', 'rule a: Service t/s not found'),
      ),
    ]),
  );
  assert.equal(missing, {
    status: 'Degraded',
    message: 'ResolvedRefs BackendNotFound: rule a: Service t/s not found',
  });
});

test('RateLimitPolicy: Progressing, Healthy, Degraded', () => {
  const policy = (conditions?: object[]) => ({
    kind: 'RateLimitPolicy',
    metadata: { name: 'l', generation: 2 },
    ...(conditions ? { status: { conditions } } : {}),
  });
  assert.is(health('RateLimitPolicy', policy()).status, 'Progressing');
  assert.is(
    health('RateLimitPolicy', policy([cond('Accepted', 'True', 'Accepted', 'ok', 1)])).status,
    'Progressing',
  );
  assert.equal(
    health('RateLimitPolicy', policy([cond('Accepted', 'True', 'Accepted', 'attached to RouteSplit t/r')])),
    { status: 'Healthy', message: 'attached to RouteSplit t/r' },
  );
  assert.equal(
    health(
      'RateLimitPolicy',
      policy([cond('Accepted', 'False', 'Conflict', 'RouteSplit t/r already has RateLimitPolicy t/x')]),
    ),
    {
      status: 'Degraded',
      message: 'Accepted Conflict: RouteSplit t/r already has RateLimitPolicy t/x',
    },
  );
});

test('a status with no generation at all (objects before the first write) is still handled', () => {
  const h = health('IngressPool', {
    metadata: { name: 'p' },
    status: { conditions: [cond('Accepted', 'True', 'A', 'ok'), cond('Programmed', 'True', 'P', 'done')] },
  });
  assert.equal(h, { status: 'Healthy', message: 'done' });
});

test.run();
