// Worker-process count from the container's CPU limit, not the host's core count (the
// `worker_processes auto` lesson from ingress-nginx). Reads the cgroup CPU quota (v2 first, then v1),
// then the BULKHEAD_CPU_LIMIT variable the synthesizer sets from the downward API, then the host.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

function readTrimmed(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * CPU quota in cores (may be fractional, e.g. 1.5), or null when unlimited or unknown.
 * `fsRoot` replaces `/` so tests can point at fake cgroup files.
 */
export function cpuQuotaCores(fsRoot = '/'): number | null {
  // cgroup v2: "<quota|max> <period>"
  const v2 = readTrimmed(join(fsRoot, 'sys/fs/cgroup/cpu.max'));
  if (v2 !== null) {
    const [quota, period] = v2.split(/\s+/);
    if (quota === 'max' || quota === undefined) return null;
    return ratio(Number(quota), Number(period ?? '100000'));
  }
  // cgroup v1: the controller is mounted as cpu, or cpu,cpuacct (sometimes only the combined name exists)
  for (const dir of ['sys/fs/cgroup/cpu', 'sys/fs/cgroup/cpu,cpuacct', 'sys/fs/cgroup/cpuacct,cpu']) {
    const quota = readTrimmed(join(fsRoot, dir, 'cpu.cfs_quota_us'));
    if (quota === null) continue;
    const period = readTrimmed(join(fsRoot, dir, 'cpu.cfs_period_us'));
    return ratio(Number(quota), Number(period ?? '100000'));
  }
  return null;
}

function ratio(quota: number, period: number): number | null {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return null;
  return quota / period;
}

/**
 * Parses a CPU amount from the downward API or a Kubernetes quantity: "500m" (millicores), "1.5" or
 * "2" (cores). A bare integer of 100 or more is read as millicores, because the downward API prints
 * limits.cpu with `divisor: 1m` as a plain integer (e.g. "1500") and no pod gets 100 cores.
 */
export function parseCpuLimit(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  let cores: number;
  if (/^\d+m$/.test(v)) cores = Number(v.slice(0, -1)) / 1000;
  else if (/^\d+$/.test(v)) cores = Number(v) >= 100 ? Number(v) / 1000 : Number(v);
  else if (/^\d*\.\d+$/.test(v)) cores = Number(v);
  else return null;
  return cores > 0 ? cores : null;
}

/**
 * Number of worker processes: an explicit integer is used as is (at least 1); `auto` is the CPU quota
 * rounded up, else BULKHEAD_CPU_LIMIT rounded up, bounded to [1, availableParallelism()].
 */
export function resolveWorkerCount(
  workers: 'auto' | number,
  fsRoot?: string,
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (typeof workers === 'number') return Math.max(1, Math.floor(workers));
  const host = availableParallelism();
  const cores = cpuQuotaCores(fsRoot) ?? parseCpuLimit(env['BULKHEAD_CPU_LIMIT']);
  if (cores === null) return host;
  return Math.min(host, Math.max(1, Math.ceil(cores)));
}
