// The load tools: wrk for HTTP/1.1 (plaintext or over TLS), h2load for gRPC and gRPC-Web unary over h2c. Each run is a child process
// bounded by its own duration flag and, as a backstop, by a kill timer; the output is parsed into
// plain numbers. Parsers are exported so their behaviour can be checked on captured output.

import { launch, stop, type Cores } from './procs.ts';

export interface LoadResult {
  rps: number;
  /** milliseconds; null when the tool does not report it (h2load has no percentiles) */
  p50Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  maxMs: number | null;
  requests: number;
  /** socket errors + timeouts + non-2xx answers + failed streams */
  errors: number;
  /** the tool's lines about errors and request counts */
  detail: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function toMs(value: string, unit: string): number {
  const scale = UNIT_MS[unit];
  if (scale === undefined) throw new Error(`BH_BENCH_PARSE: unknown latency unit "${unit}"`);
  return Number(value) * scale;
}

/** Parses `wrk --latency` output. */
export function parseWrk(out: string): LoadResult {
  const rps = out.match(/Requests\/sec:\s+([\d.]+)/);
  const total = out.match(/(\d+) requests in [^\n]*/);
  if (!rps || !total) throw new Error(`BH_BENCH_PARSE: wrk output without a summary:\n${out}`);
  const pct = (p: string): number | null => {
    const m = out.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    return m ? toMs(m[1]!, m[2]!) : null;
  };
  const lat = out.match(/^\s+Latency\s+([\d.]+)(us|ms|s|m)\s+[\d.]+(?:us|ms|s|m)\s+([\d.]+)(us|ms|s|m)/m);
  let errors = 0;
  const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  if (sock) errors += sock.slice(1).reduce((a, b) => a + Number(b), 0);
  const non2xx = out.match(/Non-2xx or 3xx responses: (\d+)/);
  if (non2xx) errors += Number(non2xx[1]);
  return {
    rps: Number(rps[1]),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    meanMs: lat ? toMs(lat[1]!, lat[2]!) : null,
    maxMs: lat ? toMs(lat[3]!, lat[4]!) : null,
    requests: Number(total[1]),
    errors,
    detail: [total[0], sock?.[0], non2xx?.[0]].filter(Boolean).join('; '),
  };
}

/** Parses h2load output. */
export function parseH2load(out: string): LoadResult & { succeeded: number; status2xx: number } {
  const fin = out.match(/finished in [\d.]+\w+, ([\d.]+) req\/s/);
  const req = out.match(
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/,
  );
  const codes = out.match(/status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/);
  if (!fin || !req || !codes) throw new Error(`BH_BENCH_PARSE: h2load output without a summary:\n${out}`);
  const t = out.match(/time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/);
  const done = Number(req[3]);
  const succeeded = Number(req[4]);
  return {
    rps: Number(fin[1]),
    p50Ms: null,
    p99Ms: null,
    meanMs: t ? toMs(t[5]!, t[6]!) : null,
    maxMs: t ? toMs(t[3]!, t[4]!) : null,
    requests: done,
    // Status codes are tallied over the warm-up too, so they are not compared with `succeeded`;
    // any non-2xx answer is an error, as are failed, errored and timed-out streams.
    errors:
      Number(req[5]) +
      Number(req[6]) +
      Number(req[7]) +
      Number(codes[2]) +
      Number(codes[3]) +
      Number(codes[4]),
    succeeded,
    status2xx: Number(codes[1]),
    detail: `${req[0]}; ${out.match(/status codes: .*/)![0]}`,
  };
}

async function runTool(
  name: string,
  cmd: string,
  args: string[],
  cores: Cores,
  budgetMs: number,
): Promise<string> {
  const proc = launch(name, cmd, args, cores);
  const timer = setTimeout(() => void stop(proc, 500), budgetMs);
  const code = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`BH_BENCH_LOAD: ${name} exited with ${code}:\n${proc.output().trim()}`);
  return proc.output();
}

export interface WrkRun {
  url: string;
  connections: number;
  durationSec: number;
  threads: number;
  cores: Cores;
}

export async function runWrk(r: WrkRun): Promise<LoadResult> {
  const args = [
    '-t',
    String(r.threads),
    '-c',
    String(r.connections),
    '-d',
    `${r.durationSec}s`,
    '--timeout',
    '5s',
    '--latency',
    r.url,
  ];
  return parseWrk(await runTool('wrk', 'wrk', args, r.cores, (r.durationSec + 15) * 1000));
}

export interface H2loadRun {
  url: string;
  bodyFile: string;
  connections: number;
  streams: number;
  durationSec: number;
  warmupSec: number;
  cores: Cores;
  /** request headers besides h2load's own; gRPC's by default */
  headers?: string[];
}

/** gRPC's request headers; gRPC-Web sends `content-type: application/grpc-web+proto` and no `te`. */
export const GRPC_HEADERS = ['content-type: application/grpc', 'te: trailers'];

export async function runH2load(r: H2loadRun): Promise<ReturnType<typeof parseH2load>> {
  const args = [
    '-t',
    '1',
    '-c',
    String(r.connections),
    '-m',
    String(r.streams),
    '-D',
    String(r.durationSec),
    '-N',
    '5',
    `--warm-up-time=${r.warmupSec}`,
    '-d',
    r.bodyFile,
    ...(r.headers ?? GRPC_HEADERS).flatMap((h) => ['-H', h]),
    r.url,
  ];
  return parseH2load(
    await runTool('h2load', 'h2load', args, r.cores, (r.durationSec + r.warmupSec + 15) * 1000),
  );
}
