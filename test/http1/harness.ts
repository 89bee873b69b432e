// Helpers for the HTTP/1.1 engine tests: a counting node:http backend, the engine in front of it
// with a small forwarding handler (the test's stand-in for the proxy, so the engine is tested on
// its own), and raw-socket clients that send exact bytes and read exactly what comes back.

import http from 'node:http';
import net from 'node:net';
import { Http1Engine, HTTP1_DEFAULTS, type Http1Settings } from '../../src/dataplane/http1/engine.ts';
import type { Http1Request } from '../../src/dataplane/http1/request.ts';
import type { Http1Response } from '../../src/dataplane/http1/response.ts';
import { acceptRaw, setWriteBatching } from '../../src/dataplane/raw-socket.ts';

/**
 * The engine serves RawSockets on the plaintext port (writes held to the end of the loop turn, or at
 * once with BULKHEAD_WRITE_BATCH=0) and net/tls sockets otherwise: tests run on all three.
 */
export const SOCKET_MODES = ['raw', 'raw-unbatched', 'net'] as const;
export type SocketMode = (typeof SOCKET_MODES)[number];
let socketMode: SocketMode = 'raw';
export function useSockets(m: SocketMode): void {
  socketMode = m;
  setWriteBatching(m !== 'raw-unbatched');
}

export interface Backend {
  server: http.Server;
  port: number;
  /** requests that reached the backend, not counting the steady client's `/steady` */
  count: number;
  close(): Promise<void>;
}

export async function countingBackend(handler?: http.RequestListener): Promise<Backend> {
  const b = { count: 0 } as Backend;
  const server = http.createServer((req, res) => {
    if (req.url !== '/steady') b.count++;
    if (handler !== undefined) return handler(req, res);
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      res.setHeader('x-path', req.url ?? '');
      res.setHeader('x-body-bytes', String(body.length));
      res.end(body.length > 0 ? body : 'ok ' + req.url);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.server = server;
  b.port = (server.address() as net.AddressInfo).port;
  b.close = () => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  };
  return b;
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'expect', 'host']);

/** Forward one request to the backend with node:http (the test's proxy). */
function forward(this: Http1Engine, req: Http1Request, res: Http1Response): void {
  if (req.url === '/throw') throw new Error('handler bug');
  const port = (this as unknown as { backendPort: number }).backendPort;
  const headers: http.OutgoingHttpHeaders = {};
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
  headers.host = req.headers.host ?? 'backend';
  const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers });
  up.on('response', (ur) => {
    const flat: string[] = [];
    for (let i = 0; i < ur.rawHeaders.length; i += 2) {
      const n = ur.rawHeaders[i]!.toLowerCase();
      if (!HOP.has(n)) flat.push(n, ur.rawHeaders[i + 1]!);
    }
    res.sendDate = false;
    res.writeHead(ur.statusCode ?? 502, flat);
    ur.on('data', (c: Buffer) => {
      if (!res.write(c)) {
        ur.pause();
        res.once('drain', () => ur.resume());
      }
    });
    ur.on('end', () => {
      if (Object.keys(ur.trailers).length > 0) res.addTrailers(ur.trailers as Record<string, string>);
      res.end();
    });
  });
  up.on('error', () => {
    if (!res.headersSent) {
      res.writeHead(502, ['content-length', '0']);
      res.end();
    } else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableEnded) up.destroy();
  });
  if (req.body !== null) req.body.pipe(up);
  else up.end();
}

export interface EngineProxy {
  engine: Http1Engine;
  port: number;
  upgrades: number;
  close(): Promise<void>;
}

export const TEST_SETTINGS: Http1Settings = {
  maxHeaderBytes: 16384,
  maxUriBytes: 8192,
  headerTimeoutMs: 2000,
  keepAliveTimeoutMs: 5000,
  maxRequestsPerConnection: 1000,
  ...HTTP1_DEFAULTS,
};

export async function engineProxy(
  backendPort: number,
  over: Partial<Http1Settings> = {},
): Promise<EngineProxy> {
  const p = { upgrades: 0 } as EngineProxy;
  const engine = new Http1Engine({ ...TEST_SETTINGS, ...over }, forward, (req, socket, head) => {
    p.upgrades++;
    socket.end(`HTTP/1.1 101 Switching Protocols\r\n\r\nupgraded ${req.url} head=${head.length}`);
  });
  (engine as unknown as { backendPort: number }).backendPort = backendPort;
  const server = net.createServer((s) => engine.accept(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  if (socketMode !== 'net' && acceptRaw(server, (s) => (engine.accept(s), s.resume())) === null)
    throw new Error('raw sockets are not available on this Node');
  p.engine = engine;
  p.port = (server.address() as net.AddressInfo).port;
  p.close = () => {
    engine.close();
    return new Promise((r) => server.close(() => r()));
  };
  return p;
}

export interface RawResult {
  data: string;
  /** the server closed the connection (within the wait) */
  closed: boolean;
}

/** Send bytes (each string after a pause of `gapMs`) and collect everything until close or `waitMs`. */
export function raw(port: number, parts: string | string[], waitMs = 1500, gapMs = 20): Promise<RawResult> {
  const list = typeof parts === 'string' ? [parts] : parts;
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let i = 0;
    const next = (): void => {
      if (i >= list.length || sock.destroyed) return;
      sock.write(list[i++]!, 'latin1');
      setTimeout(next, gapMs);
    };
    sock.on('connect', next);
    sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ data, closed: false });
    }, waitMs);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e);
    });
  });
}

/** Status codes of the responses in a raw byte string, in order. */
export function statuses(data: string): number[] {
  return [...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** A keep-alive client that requests in a loop until stopped; counts its 200s and failures. */
export function steadyClient(port: number): { stop(): Promise<{ ok: number; failed: number }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let running = true;
  let ok = 0;
  let failed = 0;
  const loop = (async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const r = http.get(
          { host: '127.0.0.1', port, path: '/steady', agent, headers: { host: 'a' } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 200) ok++;
              else failed++;
              resolve();
            });
          },
        );
        r.on('error', () => {
          failed++;
          resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { ok, failed };
    },
  };
}
