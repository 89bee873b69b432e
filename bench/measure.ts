// One measured load run against one peer: the load tool's numbers plus what the machine did
// meanwhile (CPU used by the peer's process tree, busy share of each core, load average), so a
// reader can tell a proxy-bound result from one limited by the load tool, the backend or other
// users of this shared machine.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { runH2load, runWrk, type LoadResult } from './load.ts';
import { cpuSeconds, type Cores } from './procs.ts';
import type { Row, Suite } from './report.ts';

/** [busy, total, irq + softirq] jiffies per core from /proc/stat. */
function coreTimes(): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = line.match(/^cpu\d+\s+(.*)$/);
    if (!m) continue;
    const v = m[1]!.trim().split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = v[3]! + v[4]!; // idle + iowait
    // Loopback TCP work runs largely in softirq context, charged to the core rather than the process.
    out.push([total - idle, total, v[5]! + v[6]!]);
  }
  return out;
}

interface Sample {
  at: number;
  cpu: number;
  cores: [number, number, number][];
}

function sample(pid: number | null): Sample {
  return { at: Date.now(), cpu: pid === null ? 0 : cpuSeconds(pid), cores: coreTimes() };
}

function usage(
  a: Sample,
  b: Sample,
  pid: number | null,
): { peerCpuPct: number | null; coreBusyPct: number[]; coreIrqPct: number[] } {
  const wall = (b.at - a.at) / 1000;
  const share = (i: number, field: 0 | 2): number => {
    const dt = b.cores[i]![1] - a.cores[i]![1];
    return dt > 0 ? ((b.cores[i]![field] - a.cores[i]![field]) / dt) * 100 : 0;
  };
  return {
    peerCpuPct: pid === null || wall <= 0 ? null : ((b.cpu - a.cpu) / wall) * 100,
    coreBusyPct: b.cores.map((_, i) => share(i, 0)),
    coreIrqPct: b.cores.map((_, i) => share(i, 2)),
  };
}

export interface Target {
  suite: Suite;
  peer: string;
  port: number;
  /** process whose CPU is reported (the proxy; the backend for "direct") */
  pid: number | null;
  /** the core that process is pinned to, or null when unpinned */
  core: number | null;
}

function row(
  t: Target,
  connections: number,
  streams: number,
  r: LoadResult,
  u: ReturnType<typeof usage>,
  surplus: number | null,
): Row {
  return {
    suite: t.suite,
    peer: t.peer,
    peerCore: t.core,
    connections,
    streams,
    rps: r.rps,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    meanMs: r.meanMs,
    maxMs: r.maxMs,
    requests: r.requests,
    errors: r.errors,
    ...u,
    loadAvg1: loadavg()[0]!,
    backendSurplus: surplus,
    detail: r.detail,
    error: null,
  };
}

export function failedRow(
  suite: Suite,
  peer: string,
  connections: number,
  streams: number,
  err: unknown,
): Row {
  return {
    suite,
    peer,
    peerCore: null,
    connections,
    streams,
    rps: null,
    p50Ms: null,
    p99Ms: null,
    meanMs: null,
    maxMs: null,
    requests: null,
    errors: null,
    peerCpuPct: null,
    coreBusyPct: [],
    coreIrqPct: [],
    loadAvg1: loadavg()[0]!,
    backendSurplus: null,
    detail: '',
    error: err instanceof Error ? err.message : String(err),
  };
}

export interface WrkPlan {
  connections: number;
  durationSec: number;
  warmupSec: number;
  loadCores: Cores;
  /** https: wrk over TLS (keep-alive as for http) */
  scheme?: 'http' | 'https';
}

export async function measureHttp(t: Target, p: WrkPlan): Promise<Row> {
  const url = `${p.scheme ?? 'http'}://127.0.0.1:${t.port}/`;
  // Unrecorded warm-up with the same concurrency: JIT, upstream pool and socket buffers settle.
  await runWrk({ url, connections: p.connections, durationSec: p.warmupSec, threads: 1, cores: p.loadCores });
  const a = sample(t.pid);
  const r = await runWrk({
    url,
    connections: p.connections,
    durationSec: p.durationSec,
    threads: 1,
    cores: p.loadCores,
  });
  const b = sample(t.pid);
  return row(t, p.connections, 1, r, usage(a, b, t.pid), null);
}

export interface H2Plan {
  connections: number;
  streams: number;
  durationSec: number;
  warmupSec: number;
  loadCores: Cores;
  bodyFile: string;
  path: string;
  /** request headers (load.ts GRPC_HEADERS by default) */
  headers?: string[];
  /** calls the backend has answered so far */
  backendCalls: () => Promise<number>;
}

export async function measureGrpc(t: Target, p: H2Plan): Promise<Row> {
  const url = `http://127.0.0.1:${t.port}${p.path}`;
  const before = await p.backendCalls();
  // h2load's own warm-up runs first inside the same process; CPU sampling covers both phases.
  const a = sample(t.pid);
  const r = await runH2load({
    url,
    bodyFile: p.bodyFile,
    headers: p.headers,
    connections: p.connections,
    streams: p.streams,
    durationSec: p.durationSec,
    warmupSec: p.warmupSec,
    cores: p.loadCores,
  });
  const b = sample(t.pid);
  const answered = (await p.backendCalls()) - before;
  const out = row(t, p.connections, p.streams, r, usage(a, b, t.pid), answered - r.succeeded);
  // Warm-up requests are answered by the backend too, so the surplus is normally positive; a
  // negative one means the load tool counted successes the backend never served.
  if (answered < r.succeeded) out.errors = (out.errors ?? 0) + (r.succeeded - answered);
  return out;
}
