import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cpuQuotaCores, parseCpuLimit, resolveWorkerCount } from '../../src/dataplane/cgroup.ts';

const roots: string[] = [];
function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'bh-cgroup-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const HOST = availableParallelism();

// [case, files, expected quota]
const QUOTAS: [string, Record<string, string>, number | null][] = [
  ['v2 unlimited', { 'sys/fs/cgroup/cpu.max': 'max 100000\n' }, null],
  ['v2 two cores', { 'sys/fs/cgroup/cpu.max': '200000 100000\n' }, 2],
  ['v2 half core', { 'sys/fs/cgroup/cpu.max': '50000 100000' }, 0.5],
  ['v2 1.5 cores, other period', { 'sys/fs/cgroup/cpu.max': '75000 50000' }, 1.5],
  [
    'v1 unlimited',
    { 'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', 'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' },
    null,
  ],
  [
    'v1 three cores',
    { 'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n', 'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' },
    3,
  ],
  [
    'v1 combined mount',
    {
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '150000',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000',
    },
    1.5,
  ],
  ['no cgroup files', {}, null],
  ['garbage', { 'sys/fs/cgroup/cpu.max': 'what' }, null],
];

test('cpuQuotaCores reads v2 and v1 files', () => {
  for (const [name, files, want] of QUOTAS) assert.is(cpuQuotaCores(fakeRoot(files)), want, name);
});

test('parseCpuLimit', () => {
  const cases: [string | undefined, number | null][] = [
    ['500m', 0.5],
    ['2', 2],
    ['1.5', 1.5],
    ['1500', 1.5],
    ['250', 0.25],
    ['0', null],
    ['', null],
    ['abc', null],
    [undefined, null],
  ];
  for (const [v, want] of cases) assert.is(parseCpuLimit(v), want, String(v));
});

test('resolveWorkerCount', () => {
  const none = fakeRoot({});
  const half = fakeRoot({ 'sys/fs/cgroup/cpu.max': '50000 100000' });
  const huge = fakeRoot({ 'sys/fs/cgroup/cpu.max': '6400000 100000' });
  const one = fakeRoot({ 'sys/fs/cgroup/cpu.max': '100000 100000' });
  assert.is(resolveWorkerCount(3, none, {}), 3);
  assert.is(resolveWorkerCount(0, none, {}), 1);
  assert.is(resolveWorkerCount('auto', half, {}), 1);
  assert.is(resolveWorkerCount('auto', one, {}), 1);
  assert.is(resolveWorkerCount('auto', huge, {}), HOST, 'bounded by availableParallelism');
  // quota wins over the environment
  assert.is(resolveWorkerCount('auto', one, { BULKHEAD_CPU_LIMIT: '64' }), 1);
  // environment when there is no quota
  assert.is(resolveWorkerCount('auto', none, { BULKHEAD_CPU_LIMIT: '1' }), 1);
  assert.is(resolveWorkerCount('auto', none, { BULKHEAD_CPU_LIMIT: '500m' }), 1);
  assert.is(resolveWorkerCount('auto', none, { BULKHEAD_CPU_LIMIT: '2' }), Math.min(2, HOST));
  assert.is(resolveWorkerCount('auto', none, { BULKHEAD_CPU_LIMIT: '1001' }), Math.min(2, HOST));
  assert.is(resolveWorkerCount('auto', none, { BULKHEAD_CPU_LIMIT: 'bogus' }), HOST);
  assert.is(resolveWorkerCount('auto', none, {}), HOST);
});

test.after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

test.run();
