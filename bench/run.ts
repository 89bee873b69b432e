// Bulkhead's side-by-side benchmark on loopback: HTTP/1.1 (wrk) through nginx, node-http-proxy and
// Bulkhead to one nginx backend, the same over TLS 1.3 (nginx `listen ... ssl` and Bulkhead's
// listener.tls), and gRPC unary over h2c (h2load) through nginx grpc_pass, the bare node:http2
// h2-floor peer and Bulkhead to one grpc-go backend, with gRPC-Web unary through Bulkhead, plus each backend measured directly. See
// docs/BENCHMARKS.md.
//
//   node --import tsx bench/run.ts [--quick] [--write-docs] [--rounds N] [--duration S]
//                                  [--peers a,b] [--suites http,https,grpc] [--no-pin] [--cpu-prof DIR]
//   node --import tsx bench/run.ts --render-only [--write-docs]   (tables from bench/results/latest.json)
//
// Every process it starts is stopped by PID at the end, on errors and on SIGINT/SIGTERM.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backendCalls,
  bulkheadRequestsTotal,
  checkGrpc,
  checkGrpcWeb,
  checkHttp,
  GRPC_METHOD,
  GRPC_WEB_CONTENT_TYPE,
  grpcFrame,
  HEALTH_REQUEST,
} from './check.ts';
import { failedRow, measureGrpc, measureHttp, type Target } from './measure.ts';
import * as peers from './peers.ts';
import { parseArgs, placement, tryText, type Options } from './options.ts';
import { killAllNow, stop, stopAll } from './procs.ts';
import {
  computeRatios,
  HTTPS_CONNS,
  markdown,
  writeDocs,
  writeJson,
  type Row,
  type RunReport,
} from './report.ts';
import { checkHttps, writeBenchCert } from './tls.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HTTP_CONNS = [50, 200];
const GRPC_CONNS = 10;
const GRPC_STREAMS = 10;
const HTTP_PEERS = [
  'direct',
  'nginx',
  'node-http-proxy',
  'node-floor',
  'net-floor',
  'handle-floor',
  'bulkhead',
  'bulkhead-local-limit',
  'bulkhead-global-limit',
];
const GRPC_PEERS = ['direct', 'nginx', 'h2-floor', 'bulkhead', 'bulkhead-grpc-web'];
/** HTTPS: no direct row (the backend speaks plain HTTP) */
const HTTPS_PEERS = ['nginx', 'bulkhead'];
/** The whole run is bounded: past this the runner stops everything and exits. */
const RUN_BUDGET_MS = 30 * 60_000;

/**
 * Runs one measurement of the Bulkhead peer and checks that its own metrics counted at least the
 * requests the load tool completed (warm-up included in the count), so "metrics on" is verified.
 */
async function countedByBulkhead(
  started: { port: number; adminPort?: number } | null,
  measure: () => Promise<Row>,
): Promise<Row> {
  if (started?.adminPort === undefined) return measure();
  const before = await bulkheadRequestsTotal(started.adminPort);
  const row = await measure();
  const counted = (await bulkheadRequestsTotal(started.adminPort)) - before;
  row.detail += `; bulkhead_requests_total +${counted}`;
  if (row.requests !== null && counted < row.requests) {
    row.errors = (row.errors ?? 0) + (row.requests - counted);
  }
  return row;
}

function median(rows: Row[]): Row {
  const ok = rows.filter((r) => r.error === null).sort((a, b) => a.rps! - b.rps!);
  return ok.length > 0 ? ok[Math.floor((ok.length - 1) / 2)]! : rows[rows.length - 1]!;
}

async function checkHttpSoon(port: number, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      return await checkHttp(port);
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function renderOnly(opts: Options): Promise<number> {
  const file = path.join(ROOT, 'bench', 'results', 'latest.json');
  const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
  report.ratios = computeRatios(report.rows, HTTP_CONNS, GRPC_CONNS);
  const md = markdown(report);
  process.stdout.write(`${md}\n`);
  await writeJson(file, report);
  if (opts.writeDocs) await writeDocs(path.join(ROOT, 'docs', 'BENCHMARKS.md'), md);
  return 0;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.renderOnly) return renderOnly(opts);
  const cores = placement(opts.pin);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'bulkhead-bench-'));
  workDirs.push(workDir);
  const startedAt = new Date().toISOString();
  const uptimeBefore = tryText('uptime', []);
  const want = (peer: string): boolean => opts.peers === null || peer === 'direct' || opts.peers.has(peer);
  const samples: Row[] = [];
  const log = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);

  try {
    const httpBackend = await peers.startHttpBackend(workDir, cores.backend);
    await checkHttp(httpBackend.port);
    const grpcBackend = await peers.startGrpcBackend(cores.backend);
    await checkGrpc(grpcBackend.port);
    const bodyFile = path.join(workDir, 'health-check.grpc');
    writeFileSync(bodyFile, grpcFrame(HEALTH_REQUEST));
    // The measured process's core: the proxy's, or the backend's when measured directly.
    const peerCore = (peer: string): number | null => {
      const c = peer === 'direct' ? cores.backend : cores.proxy;
      return c === null ? null : Number(c);
    };
    const backends = { httpPort: httpBackend.port, grpcPort: grpcBackend.port };
    // the Global rate-limit peer counts in a real redis-server, started once (stopAll ends it)
    const redis = want('bulkhead-global-limit') ? await peers.startRedis(workDir, cores.backend) : null;
    // one `--secrets` directory: the Redis URL and the HTTPS suite's certificate
    const secretsDir = path.join(workDir, 'secrets');
    const cert = opts.suites.has('https') ? writeBenchCert(secretsDir) : null;
    const bulkhead = (v: peers.BulkheadVariant = {}): Promise<peers.Started> =>
      peers.startBulkhead(workDir, backends, cores.proxy, { cpuProfDir: opts.cpuProf, ...v });

    const startHttpPeer = (peer: string): Promise<peers.Started | null> => {
      if (peer === 'direct') return Promise.resolve(null);
      if (peer === 'nginx') return peers.startNginxHttpProxy(workDir, httpBackend.port, cores.proxy);
      if (peer === 'node-http-proxy') return peers.startNodeHttpProxy(httpBackend.port, cores.proxy);
      if (peer === 'node-floor') return peers.startNodeFloorProxy(httpBackend.port, cores.proxy);
      if (peer === 'net-floor') return peers.startNetFloorProxy(httpBackend.port, cores.proxy);
      if (peer === 'handle-floor') return peers.startHandleFloorProxy(httpBackend.port, cores.proxy);
      if (peer === 'bulkhead-local-limit') return bulkhead({ limit: 'local' });
      if (peer === 'bulkhead-global-limit')
        return bulkhead({ limit: 'global', secretsDir: redis!.secretsDir });
      return bulkhead();
    };
    const startGrpcPeer = (peer: string): Promise<peers.Started | null> => {
      if (peer === 'direct') return Promise.resolve(null);
      if (peer === 'nginx') return peers.startNginxGrpcProxy(workDir, grpcBackend.port, cores.proxy);
      if (peer === 'h2-floor') return peers.startH2FloorProxy(grpcBackend.port, cores.proxy);
      return bulkhead({ grpcWeb: peer === 'bulkhead-grpc-web' });
    };

    for (let round = 1; round <= opts.rounds; round++) {
      if (opts.suites.has('http')) {
        for (const peer of HTTP_PEERS.filter(want)) {
          let started: peers.Started | null = null;
          try {
            started = await startHttpPeer(peer);
            const t: Target = {
              suite: 'http',
              peer,
              port: started?.port ?? httpBackend.port,
              pid: started?.proc.pid ?? httpBackend.proc.pid,
              core: peerCore(peer),
            };
            // the Global limit answers 503 (failureMode Closed) until its Redis client is connected
            await (peer === 'bulkhead-global-limit' ? checkHttpSoon(t.port, 5000) : checkHttp(t.port));
            for (const c of HTTP_CONNS) {
              log(`round ${round} http ${peer} c=${c}`);
              const loadCores = peer === 'direct' ? cores.directLoad : cores.load;
              samples.push(
                await countedByBulkhead(started, () =>
                  measureHttp(t, {
                    connections: c,
                    durationSec: opts.durationSec,
                    warmupSec: opts.warmupSec,
                    loadCores,
                  }),
                ),
              );
            }
          } catch (err) {
            log(`http ${peer} failed: ${(err as Error).message}`);
            for (const c of HTTP_CONNS) samples.push(failedRow('http', peer, c, 1, err));
          } finally {
            if (started) await stop(started.proc);
          }
        }
      }
      if (cert !== null) {
        for (const peer of HTTPS_PEERS.filter(want)) {
          let started: peers.Started | null = null;
          try {
            started =
              peer === 'nginx'
                ? await peers.startNginxHttpsProxy(workDir, httpBackend.port, cert, cores.proxy)
                : await bulkhead({ tls: true, secretsDir });
            const port = started.tlsPort ?? started.port;
            const t: Target = { suite: 'https', peer, port, pid: started.proc.pid, core: peerCore(peer) };
            await checkHttps(port, cert.certPem);
            log(`round ${round} https ${peer} c=${HTTPS_CONNS}`);
            const plan = {
              connections: HTTPS_CONNS,
              durationSec: opts.durationSec,
              warmupSec: opts.warmupSec,
              loadCores: cores.load,
              scheme: 'https' as const,
            };
            samples.push(await countedByBulkhead(started, () => measureHttp(t, plan)));
          } catch (err) {
            log(`https ${peer} failed: ${(err as Error).message}`);
            samples.push(failedRow('https', peer, HTTPS_CONNS, 1, err));
          } finally {
            if (started) await stop(started.proc);
          }
        }
      }
      if (opts.suites.has('grpc')) {
        for (const peer of GRPC_PEERS.filter(want)) {
          let started: peers.Started | null = null;
          try {
            started = await startGrpcPeer(peer);
            const t: Target = {
              suite: 'grpc',
              peer,
              port: started?.port ?? grpcBackend.port,
              pid: started?.proc.pid ?? grpcBackend.proc.pid,
              core: peerCore(peer),
            };
            await checkGrpc(t.port);
            // the gRPC-Web peer also serves plain gRPC (checked above): its route differs only in grpcWeb
            const web = peer === 'bulkhead-grpc-web';
            if (web) await checkGrpcWeb(t.port);
            log(`round ${round} grpc ${peer} c=${GRPC_CONNS}x${GRPC_STREAMS}`);
            samples.push(
              await countedByBulkhead(started, () =>
                measureGrpc(t, {
                  connections: GRPC_CONNS,
                  streams: GRPC_STREAMS,
                  durationSec: opts.durationSec,
                  warmupSec: opts.warmupSec,
                  loadCores: peer === 'direct' ? cores.directLoad : cores.load,
                  bodyFile,
                  path: GRPC_METHOD,
                  headers: web ? [`content-type: ${GRPC_WEB_CONTENT_TYPE}`] : undefined,
                  backendCalls: () => backendCalls(grpcBackend.statsPort),
                }),
              ),
            );
          } catch (err) {
            log(`grpc ${peer} failed: ${(err as Error).message}`);
            samples.push(failedRow('grpc', peer, GRPC_CONNS, GRPC_STREAMS, err));
          } finally {
            if (started) await stop(started.proc);
          }
        }
      }
    }
  } finally {
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }

  // One row per (suite, peer, connections): the median round by req/s.
  const groups = new Map<string, Row[]>();
  for (const s of samples) {
    const k = `${s.suite}|${s.peer}|${s.connections}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const rows = [...groups.values()].map(median);

  const report: RunReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `node --import tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
    quick: opts.quick,
    durationSec: opts.durationSec,
    rounds: opts.rounds,
    pinning: opts.pin
      ? { proxy: 'core 0', 'load tool': 'core 1', backends: 'core 1', 'load tool for direct': 'core 0' }
      : { all: 'unpinned' },
    machine: {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cpus: os.cpus().length,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
      node: process.version,
      nginx: tryText(peers.nginxBinary(), ['-v']),
      wrk: tryText('wrk', ['-v']).replace(/ Copyright.*/, ''),
      h2load: tryText('h2load', ['--version']),
    },
    uptimeBefore,
    uptimeAfter: tryText('uptime', []),
    rows,
    ratios: computeRatios(rows, HTTP_CONNS, GRPC_CONNS),
  };
  const md = markdown(report);
  process.stdout.write(`${md}\n`);
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  // A profiled run's figures carry the profiler's overhead: kept apart from latest.json.
  const resultFile = opts.cpuProf === null ? 'latest.json' : 'profiled.json';
  await writeJson(path.join(ROOT, 'bench', 'results', resultFile), report);
  if (opts.writeDocs) await writeDocs(path.join(ROOT, 'docs', 'BENCHMARKS.md'), md);
  return rows.some((r) => r.error !== null) ? 1 : 0;
}

// Temp folders of this run, removed on every way out (SIGINT exits without unwinding `main`).
const workDirs: string[] = [];
process.on('exit', () => {
  killAllNow();
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`[bench] ${sig}: stopping every process started\n`);
    void stopAll().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  process.stderr.write(`[bench] run budget of ${RUN_BUDGET_MS / 60_000} min exceeded, stopping\n`);
  void stopAll().finally(() => process.exit(124));
}, RUN_BUDGET_MS);
watchdog.unref();

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[bench] ${(err as Error).stack ?? String(err)}\n`);
    void stopAll().finally(() => process.exit(1));
  },
);
