// The HTTP requests active health checks send: GET <path> over HTTP/1.1 (one keep-alive socket per
// endpoint) or, for H2C clusters, over a prior-knowledge HTTP/2 connection. Each resolves with the
// status code or rejects on error or timeout; `signal` cancels it when the checker stops.

import * as http from 'node:http';
import * as https from 'node:https';
import type * as tls from 'node:tls';
import * as http2 from 'node:http2';
import type { EndpointState } from '../balancer/index.ts';

const USER_AGENT = 'bulkhead-health-check';

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

export function probeHttp1(
  agent: http.Agent | https.Agent,
  ep: EndpointState,
  path: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (agent instanceof https.Agent ? https : http).request({
      host: ep.address,
      port: ep.port,
      path,
      method: 'GET',
      agent,
      signal,
      headers: { 'user-agent': USER_AGENT },
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`health check timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume(); // drain so the socket can be reused
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

export function probeH2c(
  ep: EndpointState,
  path: string,
  timeoutMs: number,
  signal: AbortSignal,
  tlsOptions: tls.ConnectionOptions | null = null,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const session =
      tlsOptions === null
        ? http2.connect(`http://${hostForUrl(ep.address)}:${ep.port}`)
        : http2.connect(`https://${hostForUrl(ep.address)}:${ep.port}`, tlsOptions);
    let settled = false;
    const finish = (err: Error | null, status = 0): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      session.destroy();
      if (err) reject(err);
      else resolve(status);
    };
    const onAbort = (): void => finish(new Error('health check cancelled'));
    const timer = setTimeout(
      () => finish(new Error(`health check timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
    signal.addEventListener('abort', onAbort);
    session.on('error', (err) => finish(err));
    const req = session.request({ ':method': 'GET', ':path': path, 'user-agent': USER_AGENT });
    req.on('response', (headers) => finish(null, Number(headers[':status'] ?? 0)));
    req.on('error', (err) => finish(err));
    req.end();
  });
}
