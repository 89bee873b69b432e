// The experiment behind "Tail latency at 200 connections" in docs/BENCHMARKS.md: a bare `net`
// server that does `--work-us` of busy work per request (pinned to core 0) receives a burst of
// connections from h2load (core 1). It reports when it accepted each connection, and the listening
// socket's accept queue (`ss` Recv-Q) sampled every 30 ms. With libuv accepting one connection per
// event-loop iteration, a saturated loop takes the burst in slowly, and the first requests of the
// late connections make the load tool's p99. `--handles N` accepts on N descriptors of the same
// socket, duplicated over IPC as src/dataplane/accept-fanout.ts does.
// Usage: node --import tsx bench/accept-burst.ts [--conns 200] [--work-us 50] [--seconds 3] [--handles 1]

import { execFileSync, spawn } from 'node:child_process';
import { argValue } from './options.ts';
import { freePort, sleep } from './procs.ts';

const arg = (name: string, def: number): number => Number(argValue(name, String(def)));
const conns = arg('--conns', 200);
const workUs = arg('--work-us', 50);
const seconds = arg('--seconds', 3);
const handles = arg('--handles', 1);

const SERVER = `
const net = require('node:net');
const R = Buffer.from('HTTP/1.1 200 OK\\r\\ncontent-length: 5\\r\\n\\r\\nhello');
const WORK = ${workUs} / 1000;
const accepted = [];
let t0 = 0;
const onConn = (s) => {
  const now = performance.now();
  if (t0 === 0) t0 = now;
  accepted.push(now - t0);
  s.setNoDelay(true);
  s.on('data', () => { const t = performance.now(); while (performance.now() - t < WORK); s.write(R); });
  s.on('error', () => {});
};
const srv = net.createServer(onConn);
srv.listen(Number(process.argv[1]), '127.0.0.1', () => {
  let extra = ${handles} - 1;
  if (extra === 0) return console.log('ready');
  const child = require('node:child_process').spawn(process.execPath, ['-e',
    "process.on('disconnect', () => process.exit(0)); process.on('message', (m, h) => { let n = m.n;" +
    " const next = () => n-- === 0 ? process.disconnect() : process.send('h', h, { keepOpen: true }, next); next(); })"],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  child.on('message', (m, h) => {
    net.createServer(onConn).listen(h, () => { if (--extra === 0) { child.kill(); console.log('ready'); } });
  });
  child.send({ n: extra }, srv._handle, { keepOpen: true });
});
process.on('SIGUSR2', () => { console.log('ACCEPTED ' + JSON.stringify(accepted)); process.exit(0); });
`;

const port = await freePort();
const server = spawn('taskset', ['-c', '0', process.execPath, '-e', SERVER, String(port)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
server.stdout.on('data', (d: Buffer) => (out += d.toString()));
for (let i = 0; i < 100 && !out.includes('ready'); i++) await sleep(50);

const queue: string[] = [];
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const line = execFileSync('ss', ['-Hltn', `sport = :${port}`])
      .toString()
      .trim();
    queue.push(line.split(/\s+/)[1] ?? '?');
    await sleep(30);
  }
})();
// h2load runs as a child so that this process keeps sampling the queue meanwhile
const h2load = spawn(
  'taskset',
  ['-c', '1', 'h2load', '--h1', `-c${conns}`, '-t1', `-D${seconds}`, `http://127.0.0.1:${port}/`],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let load = '';
h2load.stdout.on('data', (d: Buffer) => (load += d.toString()));
const killer = setTimeout(() => h2load.kill(), (seconds + 20) * 1000);
await new Promise((r) => h2load.once('exit', r));
clearTimeout(killer);
sampling = false;
await sampler;
server.kill('SIGUSR2');
await new Promise((r) => server.once('exit', r));

const acc = (JSON.parse(/ACCEPTED (.*)/.exec(out)?.[1] ?? '[]') as number[]).sort((a, b) => a - b);
console.log(
  `server: ${workUs} µs of work per request, ${handles} accepting handle(s), ${conns} connections from h2load --h1 -t1`,
);
for (const l of load.split('\n'))
  if (/finished in|time to 1st byte|time for request/.test(l)) console.log(l.trim());
console.log(
  `accepted ${acc.length}: first at 0 ms, median at ${acc[acc.length >> 1]?.toFixed(1)} ms, last at ${acc[acc.length - 1]?.toFixed(1)} ms`,
);
console.log(`listen queue (Recv-Q) every 30 ms: ${queue.slice(0, 40).join(' ')}`);
