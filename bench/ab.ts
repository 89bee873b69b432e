// A/B of one data-plane environment variable on the benchmark's Bulkhead peer: runs alternate
// between the two values (a fresh proxy process each time, pinned as in bench/run.ts: proxy on core
// 0, wrk and the nginx backend on core 1), so drift in the machine's state hits both sides alike.
// Each run is a 1 s unrecorded warm-up and a measured wrk run at the same concurrency. Prints every
// run and the median of each side; the two sides' medians are only comparable within one A/B.
// `--gc` also traces the proxy's garbage collections (V8 --trace-gc-nvp, bench/gc-nvp.cjs) and
// reports, per run, the scavenges' median pause and the part of it spent sweeping ArrayBuffers.
// Usage: node --import tsx bench/ab.ts --var BULKHEAD_WRITE_BATCH [--a 0] [--b 1]
//          [--conns 50,200] [--runs 3] [--seconds 5] [--gc]

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as peers from './peers.ts';
import { runWrk, type LoadResult } from './load.ts';
import { argValue as arg, placement } from './options.ts';
import { killAllNow, stop, stopAll } from './procs.ts';

const variable = arg('--var', '');
if (!/^[A-Z_][A-Z0-9_]*$/.test(variable)) {
  console.error('usage: bench/ab.ts --var NAME [--a 0] [--b 1] [--conns 50,200] [--runs 3] [--seconds 5]');
  process.exit(2);
}
const sides = [arg('--a', '0'), arg('--b', '1')];
const conns = arg('--conns', '50,200').split(',').map(Number);
const runs = Number(arg('--runs', '3'));
const seconds = Number(arg('--seconds', '5'));
const cores = placement(true);
const traceGc = process.argv.includes('--gc');
const GC_PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'gc-nvp.cjs');

/** median scavenge pause and its ArrayBuffer-sweeping part (ms), from --trace-gc-nvp lines */
function scavenges(output: string): string {
  const pauses: number[] = [];
  const sweeps: number[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes(' gc=s ')) continue;
    const pause = / pause=([\d.]+)/.exec(line);
    const sweep = / scavenge\.sweep_array_buffers=([\d.]+)/.exec(line);
    if (pause !== null) pauses.push(Number(pause[1]));
    if (sweep !== null) sweeps.push(Number(sweep[1]));
  }
  if (pauses.length === 0) return 'no scavenges traced';
  return `${pauses.length} scavenges, median pause ${median(pauses)} ms, sweeping ArrayBuffers ${median(sweeps)} ms`;
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

process.on('exit', killAllNow);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'bulkhead-ab-'));
const results = new Map<string, LoadResult[]>();
try {
  const backend = await peers.startHttpBackend(workDir, cores.backend);
  for (const c of conns) {
    for (let run = 1; run <= runs; run++) {
      for (const value of sides) {
        const saved = { v: process.env[variable], o: process.env.NODE_OPTIONS };
        process.env[variable] = value;
        if (traceGc) process.env.NODE_OPTIONS = `${saved.o ?? ''} --require ${GC_PRELOAD}`.trim();
        const proxy = await peers.startBulkhead(
          workDir,
          { httpPort: backend.port, grpcPort: 1 },
          cores.proxy,
        );
        restore(variable, saved.v);
        restore('NODE_OPTIONS', saved.o);
        try {
          const url = `http://127.0.0.1:${proxy.port}/`;
          await runWrk({ url, connections: c, durationSec: 1, threads: 1, cores: cores.load });
          const r = await runWrk({
            url,
            connections: c,
            durationSec: seconds,
            threads: 1,
            cores: cores.load,
          });
          const key = `${c} ${value}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.log(
            `c=${c} ${variable}=${value} run ${run}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}`,
          );
        } finally {
          await stop(proxy.proc);
        }
        // the trace is in the proxy's stdout, complete once it has exited
        if (traceGc) console.log(`  ${scavenges(proxy.proc.output())}`);
      }
    }
  }
  console.log(`\nmedians of ${runs} runs (${seconds} s each):`);
  for (const c of conns)
    for (const value of sides) {
      const rs = results.get(`${c} ${value}`) ?? [];
      console.log(
        `c=${c} ${variable}=${value}: ${Math.round(median(rs.map((r) => r.rps)))} req/s, ` +
          `p99 ${median(rs.map((r) => r.p99Ms ?? NaN))} ms`,
      );
    }
} finally {
  await stopAll();
  rmSync(workDir, { recursive: true, force: true });
}
