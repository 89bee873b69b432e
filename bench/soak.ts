// Soak run (not in CI): one `bulkhead dataplane` process following a config stream served from here,
// under paced mixed traffic for `--minutes` (default 30): HTTP/1.1 keep-alive requests, gRPC unary
// calls over h2c, and long-lived WebSockets with a message each second and reconnect churn; a new
// snapshot is published every 30 s. Every 10 s one row goes to <out>/soak.csv: the data plane's RSS,
// open file descriptors, Node handles, event-loop delay p99, and the client-side p99 and errors of
// each traffic kind in that window. At the end <out>/soak.png charts them (panels in the CSV order).
//
//   node --import tsx bench/soak.ts [--minutes 30] [--out docs/soak]
//
// The load is paced (at most about 80 requests and messages per second in all), not a benchmark:
// the question is whether memory, descriptors and latency stay flat over time, not how fast the
// proxy is.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { PoolCredentials } from '../src/xds/credentials.ts';
import { ConfigStreamServer } from '../src/xds/server.ts';
import { cluster, route, snapshot } from '../test/dataplane/fixtures.ts';
import { argValue } from './options.ts';
import { lineChartPng } from './png-chart.ts';

const arg = (name: string, dflt: string): string => argValue(`--${name}`, dflt);
const MINUTES = Number(arg('minutes', '30'));
const OUT = arg('out', fileURLToPath(new URL('../docs/soak', import.meta.url)));
const SAMPLE_MS = 10_000;
const CHURN_MS = 30_000;
const BIN = fileURLToPath(new URL('../bin/bulkhead.mjs', import.meta.url));

const id = (b: Buffer): Buffer => b;
const unary: grpc.MethodDefinition<Buffer, Buffer> = {
  path: '/soak.Echo/Unary',
  requestStream: false,
  responseStream: false,
  requestSerialize: id,
  requestDeserialize: id,
  responseSerialize: id,
  responseDeserialize: id,
};

class Window {
  lat: number[] = [];
  errors = 0;
  p99(): number {
    const s = this.lat.sort((a, b) => a - b);
    return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]!;
  }
  reset(): void {
    this.lat = [];
    this.errors = 0;
  }
}

async function listen(s: http.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

async function main(): Promise<void> {
  // backends
  const httpBe = http.createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  const httpPort = await listen(httpBe);
  const grpcBe = new grpc.Server();
  grpcBe.addService({ Unary: unary }, { Unary: (call: any, cb: any) => cb(null, call.request) });
  const grpcPort = await new Promise<number>((r, j) =>
    grpcBe.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))),
  );
  const wsHttp = http.createServer();
  new WebSocketServer({ server: wsHttp }).on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  const wsPort = await listen(wsHttp);

  let generation = 0;
  const snap = () =>
    snapshot({
      routes: [
        route('team/grpc/r', 'team/grpc:80', {
          match: { path: { type: 'PathPrefix', value: '/soak.Echo' } },
        }),
        route('team/ws/r', 'team/ws:80', { match: { path: { type: 'PathPrefix', value: '/ws' } } }),
        // the churn: the web route's read timeout changes with every generation
        route('team/web/r', 'team/web:80', { timeouts: { readMs: 3000 + (generation % 100) } }),
      ],
      clusters: [
        cluster('team/web:80', [httpPort]),
        cluster('team/grpc:80', [grpcPort], { protocol: 'H2C' }),
        cluster('team/ws:80', [wsPort]),
      ],
      over: { accessLog: { enabled: false, sampleRate: 1 } },
    });

  // the operator's side: a config stream on loopback
  const creds = new PoolCredentials(Buffer.alloc(32, 3));
  const stream = new ConfigStreamServer({ credentials: creds });
  const streamPort = await stream.listen('127.0.0.1:0');
  stream.publish('edge/pool', snap());
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-soak-'));
  writeFileSync(path.join(dir, 'snapshot.json'), JSON.stringify(snap()));
  writeFileSync(path.join(dir, 'token'), creds.tokenFor('edge/pool'));
  const dp = spawn(
    process.execPath,
    [BIN, 'dataplane', '--snapshot', path.join(dir, 'snapshot.json'), '--port', '0', '--admin-port', '0']
      .concat(['--host', '127.0.0.1', '--workers', '1', '--control-plane', `127.0.0.1:${streamPort}`])
      .concat(['--pool', 'edge/pool', '--credential', path.join(dir, 'token')]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const { port, adminPort } = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
    dp.stderr!.on('data', (c: Buffer) => {
      const m = /serving on port (\d+), admin on (\d+)/.exec(c.toString());
      if (m) resolve({ port: Number(m[1]), adminPort: Number(m[2]) });
    });
    dp.once('exit', (code) => reject(new Error(`data plane exited ${code}`)));
  });
  const pid = dp.pid!;

  const end = Date.now() + MINUTES * 60_000;
  const running = () => Date.now() < end;
  const w = { http: new Window(), grpc: new Window(), ws: new Window() };

  // HTTP/1.1: 50 requests/s on keep-alive connections
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 });
  const httpLoop = async () => {
    while (running()) {
      const t0 = performance.now();
      try {
        const r = await pool.request({ path: '/web', method: 'GET' });
        await r.body.text();
        if (r.statusCode !== 200) w.http.errors++;
      } catch {
        w.http.errors++;
      }
      w.http.lat.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // gRPC: 20 unary calls/s over one h2c channel
  const Client = grpc.makeGenericClientConstructor({ Unary: unary }, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  const grpcLoop = async () => {
    while (running()) {
      const t0 = performance.now();
      await new Promise<void>((resolve) =>
        client.Unary(Buffer.from('soak'), (err: Error | null) => {
          if (err) w.grpc.errors++;
          w.grpc.lat.push(performance.now() - t0);
          resolve();
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // WebSocket: 10 connections, one message/s each, each reconnects after 20-60 s
  const wsLoop = async () => {
    while (running()) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const life = Date.now() + 20_000 + Math.random() * 40_000;
      try {
        await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
        while (running() && Date.now() < life) {
          const t0 = performance.now();
          const echoed = new Promise((r, j) => {
            ws.once('message', r);
            setTimeout(() => j(new Error('no echo')), 5000);
          });
          ws.send('soak');
          await echoed;
          w.ws.lat.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 1000));
        }
      } catch {
        w.ws.errors++;
      }
      ws.close();
    }
  };

  const churn = setInterval(() => {
    generation++;
    stream.publish('edge/pool', snap());
  }, CHURN_MS);

  mkdirSync(OUT, { recursive: true });
  const header =
    'seconds,rss_mb,fds,handles,loop_p99_ms,http_p99_ms,http_errors,grpc_p99_ms,grpc_errors,ws_p99_ms,ws_errors,generation';
  const rows: number[][] = [];
  const t0 = Date.now();
  const sample = async () => {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const metric = (name: string) =>
      Number(/\s(\S+)$/.exec(text.split('\n').find((l) => l.startsWith(name)) ?? ' 0')![1]);
    const row = [
      Math.round((Date.now() - t0) / 1000),
      Math.round(rss * 10) / 10,
      fds,
      metric('bulkhead_process_nodejs_active_handles_total'),
      Math.round(metric('bulkhead_process_nodejs_eventloop_lag_p99_seconds') * 1e4) / 10,
      Math.round(w.http.p99() * 10) / 10,
      w.http.errors,
      Math.round(w.grpc.p99() * 10) / 10,
      w.grpc.errors,
      Math.round(w.ws.p99() * 10) / 10,
      w.ws.errors,
      generation,
    ];
    rows.push(row);
    w.http.reset();
    w.grpc.reset();
    w.ws.reset();
    writeFileSync(path.join(OUT, 'soak.csv'), [header, ...rows.map((r) => r.join(','))].join('\n') + '\n');
    process.stderr.write(
      `${header
        .split(',')
        .map((h, i) => `${h}=${row[i]}`)
        .join(' ')}\n`,
    );
  };
  const sampler = setInterval(() => void sample(), SAMPLE_MS);

  await Promise.all([
    ...Array.from({ length: 1 }, httpLoop),
    grpcLoop(),
    ...Array.from({ length: 10 }, wsLoop),
  ]);
  clearInterval(sampler);
  clearInterval(churn);
  await sample();
  const col = (i: number) => rows.map((r) => r[i]!);
  writeFileSync(
    path.join(OUT, 'soak.png'),
    lineChartPng([
      { name: 'rss_mb', values: col(1), color: [31, 119, 180] },
      { name: 'fds', values: col(2), color: [255, 127, 14] },
      { name: 'loop_p99_ms', values: col(4), color: [44, 160, 44] },
      { name: 'http_p99_ms', values: col(5), color: [214, 39, 40] },
      { name: 'grpc_p99_ms', values: col(7), color: [148, 103, 189] },
      { name: 'ws_p99_ms', values: col(9), color: [140, 86, 75] },
    ]),
  );
  client.close();
  await pool.close();
  dp.kill('SIGTERM');
  await new Promise((r) => dp.once('exit', r));
  await stream.close();
  grpcBe.forceShutdown();
  httpBe.close();
  wsHttp.close();
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`soak: ${rows.length} samples in ${OUT}/soak.csv and soak.png\n`);
}

await main();
process.exit(0);
