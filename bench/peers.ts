// Starting the benchmark's processes: the two backends and each proxy peer, each on its own free
// loopback port, pinned to the cores the runner chose, and verified with one real request before
// any load is sent (a peer that answers wrongly fails here instead of producing a fast-looking
// number).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backendConfig,
  grpcProxyConfig,
  httpProxyConfig,
  httpsProxyConfig,
  nginxArgs,
  writeNginxConfig,
} from './nginx-config.ts';
import { freePort, launch, waitForLine, waitForPort, type Cores, type Launched } from './procs.ts';
import { BENCH_REDIS_SECRET, benchSnapshot, type BenchLimit } from './snapshot.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const READY_MS = 20_000;

export interface Started {
  proc: Launched;
  port: number;
  /** Bulkhead's admin port (/metrics) */
  adminPort?: number;
  /** Bulkhead's HTTPS port, when its snapshot has listener.tls */
  tlsPort?: number;
}

export interface GrpcBackend extends Started {
  statsPort: number;
}

export function grpcBackendBinary(): string {
  const cache = process.env.BULKHEAD_CACHE ?? path.join(homedir(), '.cache', 'bulkhead');
  return path.join(cache, 'bin', 'bench-grpc-backend');
}

export function nginxBinary(): string {
  return existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
}

export async function startHttpBackend(workDir: string, cores: Cores): Promise<Started> {
  const port = await freePort();
  const prefix = path.join(workDir, 'nginx-backend');
  const files = writeNginxConfig(prefix, backendConfig({ prefix, port }));
  const proc = launch('nginx-backend', nginxBinary(), nginxArgs(files), cores);
  await waitForPort(proc, port, READY_MS);
  return { proc, port };
}

export async function startGrpcBackend(cores: Cores): Promise<GrpcBackend> {
  const bin = grpcBackendBinary();
  if (!existsSync(bin))
    throw new Error(`BH_BENCH_NO_GRPC_BACKEND: ${bin} is missing; run scripts/setup-system.sh`);
  const proc = launch('grpc-backend', bin, ['-addr', '127.0.0.1:0', '-stats', '127.0.0.1:0'], cores);
  const m = await waitForLine(proc, /grpc=(\d+) stats=(\d+)/, READY_MS);
  return { proc, port: Number(m[1]), statsPort: Number(m[2]) };
}

export async function startNginxHttpProxy(
  workDir: string,
  backendPort: number,
  cores: Cores,
): Promise<Started> {
  const port = await freePort();
  const prefix = path.join(workDir, 'nginx-proxy');
  const files = writeNginxConfig(prefix, httpProxyConfig({ prefix, port, backendPort }));
  const proc = launch('nginx-proxy', nginxBinary(), nginxArgs(files), cores);
  await waitForPort(proc, port, READY_MS);
  return { proc, port };
}

export async function startNginxGrpcProxy(
  workDir: string,
  backendPort: number,
  cores: Cores,
): Promise<Started> {
  const port = await freePort();
  const prefix = path.join(workDir, 'nginx-grpc');
  const files = writeNginxConfig(prefix, grpcProxyConfig({ prefix, port, backendPort }));
  const proc = launch('nginx-grpc', nginxBinary(), nginxArgs(files), cores);
  await waitForPort(proc, port, READY_MS);
  return { proc, port };
}

/** The nginx HTTPS peer: TLS 1.3 only, the bench certificate, the same proxying as startNginxHttpProxy. */
export async function startNginxHttpsProxy(
  workDir: string,
  backendPort: number,
  cert: { certFile: string; keyFile: string },
  cores: Cores,
): Promise<Started> {
  const port = await freePort();
  const prefix = path.join(workDir, 'nginx-https');
  const files = writeNginxConfig(
    prefix,
    httpsProxyConfig({ prefix, port, backendPort, certFile: cert.certFile, keyFile: cert.keyFile }),
  );
  const proc = launch('nginx-https', nginxBinary(), nginxArgs(files), cores);
  await waitForPort(proc, port, READY_MS);
  return { proc, port };
}

function nodeScript(
  name: string,
  script: string,
  args: string[],
  cores: Cores,
  nodeFlags: string[] = [],
): Launched {
  // NODE_ENV=production as a deployed proxy would run; no inspector, no source maps.
  const env = { ...process.env, NODE_ENV: 'production' };
  return launch(
    name,
    process.execPath,
    [...nodeFlags, '--import', 'tsx', path.join(BENCH_DIR, script), ...args],
    cores,
    env,
  );
}

export async function startNodeHttpProxy(backendPort: number, cores: Cores): Promise<Started> {
  const port = await freePort();
  const proc = nodeScript(
    'node-http-proxy',
    'node-http-proxy.ts',
    [String(port), String(backendPort)],
    cores,
  );
  await waitForLine(proc, /ready port=(\d+)/, READY_MS);
  return { proc, port };
}

export async function startNodeFloorProxy(backendPort: number, cores: Cores): Promise<Started> {
  const port = await freePort();
  const proc = nodeScript('node-floor', 'node-floor-proxy.ts', [String(port), String(backendPort)], cores);
  await waitForLine(proc, /ready port=(\d+)/, READY_MS);
  return { proc, port };
}

export async function startNetFloorProxy(backendPort: number, cores: Cores): Promise<Started> {
  const port = await freePort();
  const proc = nodeScript('net-floor', 'net-floor-proxy.ts', [String(port), String(backendPort)], cores);
  await waitForLine(proc, /ready port=(\d+)/, READY_MS);
  return { proc, port };
}

export async function startHandleFloorProxy(backendPort: number, cores: Cores): Promise<Started> {
  const port = await freePort();
  const proc = nodeScript(
    'handle-floor',
    'handle-floor-proxy.ts',
    [String(port), String(backendPort)],
    cores,
  );
  await waitForLine(proc, /ready port=(\d+)/, READY_MS);
  return { proc, port };
}

/** The h2c reference peer of the gRPC suite (bench/h2-floor-proxy.ts). */
export async function startH2FloorProxy(backendPort: number, cores: Cores): Promise<Started> {
  const port = await freePort();
  const proc = nodeScript('h2-floor', 'h2-floor-proxy.ts', [String(port), String(backendPort)], cores);
  await waitForLine(proc, /ready port=(\d+)/, READY_MS);
  return { proc, port };
}

/**
 * redis-server for the Global rate-limit peer (no persistence), and the `--secrets` directory that
 * holds its URL. Shares the backends' core: it is part of what the proxy depends on, not the proxy.
 */
export async function startRedis(workDir: string, cores: Cores): Promise<Started & { secretsDir: string }> {
  const port = await freePort();
  const proc = launch(
    'redis',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    cores,
  );
  await waitForPort(proc, port, READY_MS);
  const secretsDir = path.join(workDir, 'secrets');
  const dir = path.join(secretsDir, BENCH_REDIS_SECRET.namespace, BENCH_REDIS_SECRET.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, BENCH_REDIS_SECRET.key), `redis://127.0.0.1:${port}\n`);
  return { proc, port, secretsDir };
}

export interface BulkheadVariant {
  /** access log destination; /dev/null by default */
  accessLog?: string;
  /** directory for `node --cpu-prof` profiles, or null */
  cpuProfDir?: string | null;
  limit?: BenchLimit;
  /** the `--secrets` directory (Redis URL, TLS certificate) */
  secretsDir?: string | null;
  /** also listen for HTTPS (TLS 1.3, certificate from `secretsDir`) */
  tls?: boolean;
  /** gRPC-Web translation on the gRPC route */
  grpcWeb?: boolean;
}

export async function startBulkhead(
  workDir: string,
  backends: { httpPort: number; grpcPort: number },
  cores: Cores,
  v: BulkheadVariant = {},
): Promise<Started> {
  const port = await freePort();
  const adminPort = await freePort();
  const snapshot = benchSnapshot({
    port,
    adminPort,
    httpBackendPort: backends.httpPort,
    grpcBackendPort: backends.grpcPort,
    limit: v.limit ?? 'none',
    tlsPort: v.tls === true ? await freePort() : undefined,
    grpcWeb: v.grpcWeb ?? false,
  });
  const file = path.join(workDir, 'bulkhead-snapshot.json');
  writeFileSync(file, JSON.stringify(snapshot, null, 2));
  const cpuProfDir = v.cpuProfDir ?? null;
  const flags = cpuProfDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir];
  const secretsDir = v.secretsDir ?? null;
  const proc = nodeScript(
    'bulkhead',
    'bulkhead-proxy.ts',
    [
      file,
      String(port),
      String(adminPort),
      v.accessLog ?? '/dev/null',
      ...(secretsDir === null ? [] : [secretsDir]),
    ],
    cores,
    flags,
  );
  const m = await waitForLine(proc, /ready port=(\d+) admin=(\d+) tls=(\d+)/, READY_MS);
  const tlsPort = Number(m[3]);
  return { proc, port: Number(m[1]), adminPort: Number(m[2]), ...(tlsPort > 0 ? { tlsPort } : {}) };
}
