// Results of one benchmark run: the rows measured, the ratios the project's targets are stated in,
// the Markdown that goes to stdout and docs/BENCHMARKS.md, and the JSON in bench/results/.

import { readFileSync, writeFileSync } from 'node:fs';

export type Suite = 'http' | 'grpc' | 'https';
export const SUITES: readonly Suite[] = ['http', 'https', 'grpc'];
/** wrk connections of the HTTPS suite (keep-alive, one handshake per connection) */
export const HTTPS_CONNS = 50;

export interface Row {
  suite: Suite;
  peer: string;
  connections: number;
  /** concurrent streams per connection (gRPC) */
  streams: number;
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  maxMs: number | null;
  requests: number | null;
  errors: number | null;
  /** CPU used by the measured process tree during the run, % of one core */
  peerCpuPct: number | null;
  /** busy % of each core over the run (other users' work on the machine included) */
  coreBusyPct: number[];
  /** irq + softirq share of each core (kernel network work, mostly loopback TCP) */
  coreIrqPct: number[];
  /** the core the measured process was pinned to (null: unpinned) */
  peerCore: number | null;
  loadAvg1: number;
  /** gRPC: calls the backend answered minus the load tool's succeeded count (>= 0 when honest) */
  backendSurplus: number | null;
  /** the load tool's error/summary line, for reading a failure or an odd number */
  detail: string;
  error: string | null;
}

export interface Ratio {
  name: string;
  value: number | null;
  target: string;
  pass: boolean | null;
}

export interface RunReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  quick: boolean;
  durationSec: number;
  rounds: number;
  pinning: Record<string, string>;
  machine: Record<string, string | number>;
  uptimeBefore: string;
  uptimeAfter: string;
  rows: Row[];
  ratios: Ratio[];
}

function find(rows: Row[], suite: Suite, peer: string, conns: number): Row | undefined {
  return rows.find(
    (r) => r.suite === suite && r.peer === peer && r.connections === conns && r.error === null,
  );
}

function cost(r: Row | undefined): number | null {
  return r === undefined ? null : perCore(r);
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || b === 0 ? null : a / b;
}

export function computeRatios(rows: Row[], httpConns: number[], grpcConns: number): Ratio[] {
  const out: Ratio[] = [];
  const has = (suite: Suite): boolean => rows.some((r) => r.suite === suite);
  for (const c of has('http') ? httpConns : []) {
    const bh = find(rows, 'http', 'bulkhead', c);
    const ng = find(rows, 'http', 'nginx', c);
    const np = find(rows, 'http', 'node-http-proxy', c);
    const atTarget = c === 50;
    const vsNginx = ratio(bh?.rps, ng?.rps);
    const vsNode = ratio(bh?.rps, np?.rps);
    const p99 = ratio(bh?.p99Ms, ng?.p99Ms);
    out.push({
      name: `HTTP/1.1 c=${c}: Bulkhead / nginx req/s`,
      value: vsNginx,
      target: atTarget ? '>= 0.60' : '-',
      pass: atTarget && vsNginx !== null ? vsNginx >= 0.6 : null,
    });
    out.push({
      name: `HTTP/1.1 c=${c}: Bulkhead / node-http-proxy req/s`,
      value: vsNode,
      target: atTarget ? '>= 1.60' : '-',
      pass: atTarget && vsNode !== null ? vsNode >= 1.6 : null,
    });
    out.push({
      name: `HTTP/1.1 c=${c}: Bulkhead p99 / nginx p99`,
      value: p99,
      target: '<= 2.00',
      pass: p99 === null ? null : p99 <= 2,
    });
    // Cost per request, whichever process limited the rate: steadier than req/s on a busy machine.
    out.push({
      name: `HTTP/1.1 c=${c}: Bulkhead / nginx req/s per peer core`,
      value: ratio(cost(bh), cost(ng)),
      target: '-',
      pass: null,
    });
    out.push({
      name: `HTTP/1.1 c=${c}: Bulkhead / node-http-proxy req/s per peer core`,
      value: ratio(cost(bh), cost(np)),
      target: '-',
      pass: null,
    });
    out.push({
      name: `HTTP/1.1 c=${c}: Bulkhead / node-floor req/s per peer core`,
      value: ratio(cost(bh), cost(find(rows, 'http', 'node-floor', c))),
      target: '-',
      pass: null,
    });
    out.push({
      name: `HTTP/1.1 c=${c}: Bulkhead / net-floor req/s per peer core`,
      value: ratio(cost(bh), cost(find(rows, 'http', 'net-floor', c))),
      target: '-',
      pass: null,
    });
    out.push({
      name: `HTTP/1.1 c=${c}: Bulkhead / handle-floor req/s per peer core`,
      value: ratio(cost(bh), cost(find(rows, 'http', 'handle-floor', c))),
      target: '-',
      pass: null,
    });
    out.push({
      name: `HTTP/1.1 c=${c}: handle-floor / nginx req/s per peer core`,
      value: ratio(cost(find(rows, 'http', 'handle-floor', c)), cost(ng)),
      target: '-',
      pass: null,
    });
    // What one rate-limit decision per request costs: the same proxy with a limit that never bites
    for (const [peer, what] of [
      ['bulkhead-local-limit', 'a Local limit'],
      ['bulkhead-global-limit', 'a Global (Redis) limit'],
    ] as const) {
      const limited = find(rows, 'http', peer, c);
      if (limited === undefined) continue;
      out.push({
        name: `HTTP/1.1 c=${c}: Bulkhead with ${what} / without, req/s`,
        value: ratio(limited.rps, bh?.rps),
        target: '-',
        pass: null,
      });
    }
  }
  if (has('https')) {
    const bh = find(rows, 'https', 'bulkhead', HTTPS_CONNS);
    const ng = find(rows, 'https', 'nginx', HTTPS_CONNS);
    out.push({
      name: `HTTPS c=${HTTPS_CONNS}: Bulkhead / nginx req/s`,
      value: ratio(bh?.rps, ng?.rps),
      target: '-',
      pass: null,
    });
    out.push({
      name: `HTTPS c=${HTTPS_CONNS}: Bulkhead / nginx req/s per peer core`,
      value: ratio(cost(bh), cost(ng)),
      target: '-',
      pass: null,
    });
  }
  if (!has('grpc')) return out;
  const gb = find(rows, 'grpc', 'bulkhead', grpcConns);
  const gn = find(rows, 'grpc', 'nginx', grpcConns);
  const g = ratio(gb?.rps, gn?.rps);
  out.push({
    name: 'gRPC unary: Bulkhead / nginx grpc_pass req/s',
    value: g,
    target: '>= 0.50',
    pass: g === null ? null : g >= 0.5,
  });
  out.push({
    name: 'gRPC unary: Bulkhead / nginx grpc_pass req/s per peer core',
    value: ratio(cost(gb), cost(gn)),
    target: '-',
    pass: null,
  });
  // What Bulkhead adds over node:http2's own two streams per call (bench/h2-floor-proxy.ts)
  const gf = find(rows, 'grpc', 'h2-floor', grpcConns);
  if (gf !== undefined) {
    out.push({
      name: 'gRPC unary: Bulkhead / h2-floor req/s per peer core',
      value: ratio(cost(gb), cost(gf)),
      target: '-',
      pass: null,
    });
    out.push({
      name: 'gRPC unary: h2-floor / nginx grpc_pass req/s per peer core',
      value: ratio(cost(gf), cost(gn)),
      target: '-',
      pass: null,
    });
  }
  // What translating gRPC-Web costs: the same call through the same proxy, with grpcWeb on the route
  const gw = find(rows, 'grpc', 'bulkhead-grpc-web', grpcConns);
  if (gw === undefined) return out;
  out.push({
    name: 'gRPC-Web unary / gRPC unary through Bulkhead req/s',
    value: ratio(gw.rps, gb?.rps),
    target: '-',
    pass: null,
  });
  out.push({
    name: 'gRPC-Web unary / gRPC unary through Bulkhead req/s per peer core',
    value: ratio(cost(gw), cost(gb)),
    target: '-',
    pass: null,
  });
  return out;
}

const fmt = (v: number | null, digits = 2): string => (v === null ? '-' : v.toFixed(digits));
const fmtInt = (v: number | null): string => (v === null ? '-' : Math.round(v).toLocaleString('en-US'));

/** Requests served per second of CPU the peer used: its cost, whichever process limited the rate. */
export function perCore(row: Row): number | null {
  return row.rps === null || row.peerCpuPct === null || row.peerCpuPct <= 0
    ? null
    : row.rps / (row.peerCpuPct / 100);
}

/**
 * Busy share of the peer's own core not used by the peer: other processes of this shared machine
 * taking the core the peer was meant to have alone. Large values make that row's req/s a low bound.
 */
export function othersOnPeerCore(row: Row): number | null {
  if (row.peerCore === null || row.peerCpuPct === null) return null;
  const busy = row.coreBusyPct[row.peerCore];
  const irq = row.coreIrqPct?.[row.peerCore] ?? 0;
  return busy === undefined ? null : Math.max(0, busy - irq - row.peerCpuPct);
}

export function markdown(r: RunReport): string {
  const lines: string[] = [];
  lines.push(
    `Run ${r.startedAt} → ${r.finishedAt}, \`${r.command}\`, ${r.durationSec} s per load run, ${r.rounds} round(s) (median by req/s).`,
  );
  lines.push('');
  lines.push(
    `Machine: ${r.machine.cpuModel}, ${r.machine.cpus} cores, Linux ${r.machine.kernel}, Node ${r.machine.node}, ${r.machine.nginx}, ${r.machine.wrk}, ${r.machine.h2load}.`,
  );
  lines.push(`Load before: \`${r.uptimeBefore}\`; after: \`${r.uptimeAfter}\`.`);
  lines.push(
    `Pinning: ${Object.entries(r.pinning)
      .map(([k, v]) => `${k} → ${v}`)
      .join('; ')}.`,
  );
  lines.push('');
  lines.push(
    '| suite | peer | conns | req/s | p50 ms | p99 ms | mean ms | errors | peer CPU % | req/s per peer core | core busy % (0 / 1) | softirq % (0 / 1) | others on peer core % | load1 |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|');
  for (const row of r.rows) {
    const conns = row.suite === 'grpc' ? `${row.connections}×${row.streams}` : String(row.connections);
    if (row.error !== null) {
      lines.push(
        `| ${row.suite} | ${row.peer} | ${conns} | FAILED: ${row.error.split('\n')[0]!.replace(/\|/g, '/')} | | | | | | | | | | |`,
      );
      continue;
    }
    lines.push(
      `| ${row.suite} | ${row.peer} | ${conns} | ${fmtInt(row.rps)} | ${fmt(row.p50Ms)} | ${fmt(row.p99Ms)} | ${fmt(row.meanMs)} | ${row.errors ?? '-'} | ${fmt(row.peerCpuPct, 0)} | ${fmtInt(perCore(row))} | ${row.coreBusyPct.map((v) => v.toFixed(0)).join(' / ')} | ${(row.coreIrqPct ?? []).map((v) => v.toFixed(0)).join(' / ')} | ${fmt(othersOnPeerCore(row), 0)} | ${row.loadAvg1.toFixed(2)} |`,
    );
  }
  lines.push('');
  lines.push('| ratio | value | target | met |');
  lines.push('|---|---:|---|---|');
  for (const q of r.ratios)
    lines.push(
      `| ${q.name} | ${fmt(q.value)} | ${q.target} | ${q.pass === null ? '-' : q.pass ? 'yes' : 'NO'} |`,
    );
  return lines.join('\n');
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** Formats with the repository's Prettier settings, so generated files pass `npm run lint`. */
async function pretty(file: string, text: string): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

/** Replaces the marked results section of the docs page with this run's Markdown. */
export async function writeDocs(file: string, md: string): Promise<void> {
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`BH_BENCH_DOCS: ${file} has no ${START} ... ${END} section`);
  writeFileSync(file, await pretty(file, `${text.slice(0, a + START.length)}\n\n${md}\n\n${text.slice(b)}`));
}

export async function writeJson(file: string, report: RunReport): Promise<void> {
  writeFileSync(file, await pretty(file, JSON.stringify(report, null, 2)));
}
