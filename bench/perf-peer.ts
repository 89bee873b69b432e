// Where the proxy core's time goes, kernel included: `perf record` on the benchmark's Bulkhead peer
// (pinned to core 0 as in bench/run.ts) while wrk (core 1) drives it, then `perf report` by shared
// object and by symbol. The V8 CPU profile (`bench/run.ts --cpu-prof`) sees JavaScript frames only;
// this sees the socket writes' kernel work, including waking the reader on the other core.
// Needs `perf` (Debian: linux-perf) and perf_event_paranoid <= 2 (or root).
// Usage: node --import tsx bench/perf-peer.ts [--conns 200] [--seconds 5] [--top 25] [--env NAME=VALUE]

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as peers from './peers.ts';
import { runWrk } from './load.ts';
import { argValue as arg, placement } from './options.ts';
import { killAllNow, sleep, stop, stopAll } from './procs.ts';

const conns = Number(arg('--conns', '200'));
const seconds = Number(arg('--seconds', '5'));
const top = Number(arg('--top', '25'));
const env = arg('--env', '');
const cores = placement(true);

process.on('exit', killAllNow);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'bulkhead-perf-'));
const data = path.join(workDir, 'perf.data');
try {
  const backend = await peers.startHttpBackend(workDir, cores.backend);
  if (env !== '') {
    const [name, value] = env.split('=');
    process.env[name!] = value ?? '';
  }
  const proxy = await peers.startBulkhead(workDir, { httpPort: backend.port, grpcPort: 1 }, cores.proxy);
  const url = `http://127.0.0.1:${proxy.port}/`;
  try {
    await runWrk({ url, connections: conns, durationSec: 1, threads: 1, cores: cores.load });
    const rec = spawn('perf', ['record', '-F', '2000', '-g', '-o', data, '-p', String(proxy.proc.pid)], {
      stdio: 'ignore',
    });
    const recorded = new Promise<void>((resolve) => rec.once('exit', () => resolve()));
    await sleep(300);
    const r = await runWrk({ url, connections: conns, durationSec: seconds, threads: 1, cores: cores.load });
    rec.kill('SIGINT');
    await recorded;
    console.log(
      `c=${conns}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (under perf)\n`,
    );
  } finally {
    await stop(proxy.proc);
  }
  for (const sort of ['dso', 'sym']) {
    const out = execFileSync('perf', ['report', '-i', data, '--no-children', '--sort', sort, '-g', 'none'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines = out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    console.log(`by ${sort}:\n${lines.slice(0, sort === 'dso' ? 6 : top).join('\n')}\n`);
  }
} finally {
  await stopAll();
  rmSync(workDir, { recursive: true, force: true });
}
