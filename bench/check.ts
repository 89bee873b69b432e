// One real request through a peer before it is measured: the HTTP path must return the backend's
// body, the gRPC path must complete a Health/Check call with grpc-status OK and a SERVING answer
// (checked by @grpc/grpc-js, which reads the trailers that h2load ignores), and the gRPC-Web path
// the same call over h2c as h2load sends it: status 200, a grpc-web content type, the SERVING
// message frame, then the trailer frame (flag 0x80) carrying grpc-status 0.

import grpc from '@grpc/grpc-js';
import http from 'node:http';
import http2 from 'node:http2';
import { BACKEND_BODY } from './nginx-config.ts';

export const GRPC_METHOD = '/grpc.health.v1.Health/Check';

/** HealthCheckRequest{service: "bench"} as protobuf bytes. */
export const HEALTH_REQUEST = Buffer.from([0x0a, 0x05, ...Buffer.from('bench')]);
/** HealthCheckResponse{status: SERVING}. */
const HEALTH_SERVING = Buffer.from([0x08, 0x01]);

/** The gRPC length-prefixed message h2load sends as each request body. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(0, 0); // not compressed
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

export function checkHttp(port: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/bench-check', agent: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode === 200 && body === BACKEND_BODY) resolve();
          else
            reject(
              new Error(
                `BH_BENCH_CHECK: HTTP check on :${port} got ${res.statusCode} ${JSON.stringify(body.slice(0, 200))}`,
              ),
            );
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`BH_BENCH_CHECK: HTTP check on :${port} timed out`)));
    req.on('error', reject);
  });
}

export function checkGrpc(port: number, timeoutMs = 3000): Promise<void> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const same = (b: Buffer): Buffer => b;
  return new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(
      GRPC_METHOD,
      same,
      same,
      HEALTH_REQUEST,
      { deadline: Date.now() + timeoutMs },
      (err, value) => {
        if (err)
          reject(new Error(`BH_BENCH_CHECK: gRPC check on :${port} failed: ${err.code} ${err.details}`));
        else if (!value || !value.equals(HEALTH_SERVING))
          reject(new Error(`BH_BENCH_CHECK: gRPC check on :${port} got ${value?.toString('hex')}`));
        else resolve();
      },
    );
  }).finally(() => client.close());
}

/** The request content type of the gRPC-Web peer (binary mode, protobuf). */
export const GRPC_WEB_CONTENT_TYPE = 'application/grpc-web+proto';

/** A gRPC-Web response body split into its message frames and the trailer frame's fields. */
export function parseGrpcWebBody(body: Buffer): {
  messages: Buffer[];
  trailers: Record<string, string> | null;
} {
  const messages: Buffer[] = [];
  let trailers: Record<string, string> | null = null;
  let at = 0;
  while (at < body.length) {
    if (trailers !== null) throw new Error('BH_BENCH_CHECK: gRPC-Web body continues after its trailer frame');
    if (body.length - at < 5) throw new Error('BH_BENCH_CHECK: gRPC-Web body ends inside a frame header');
    const flags = body[at]!;
    const len = body.readUInt32BE(at + 1);
    if (body.length - at - 5 < len) throw new Error('BH_BENCH_CHECK: gRPC-Web body ends inside a frame');
    const payload = body.subarray(at + 5, at + 5 + len);
    at += 5 + len;
    if ((flags & 0x80) === 0) {
      messages.push(payload);
      continue;
    }
    trailers = {};
    for (const line of payload.toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
  }
  return { messages, trailers };
}

export function checkGrpcWeb(port: number, timeoutMs = 3000): Promise<void> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const fail = (what: string): Error => new Error(`BH_BENCH_CHECK: gRPC-Web check on :${port} ${what}`);
  return new Promise<void>((resolve, reject) => {
    session.once('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': GRPC_METHOD,
      'content-type': GRPC_WEB_CONTENT_TYPE,
    });
    req.setTimeout(timeoutMs, () => req.destroy(fail('timed out')));
    let status = 0;
    let type = '';
    const chunks: Buffer[] = [];
    req.once('response', (h) => {
      status = Number(h[':status']);
      type = String(h['content-type'] ?? '');
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('error', reject);
    req.once('end', () => {
      try {
        const body = Buffer.concat(chunks);
        if (status !== 200 || !type.startsWith('application/grpc-web'))
          throw fail(`got ${status} ${type} ${body.toString('hex').slice(0, 200)}`);
        const { messages, trailers } = parseGrpcWebBody(body);
        if (messages.length !== 1 || !messages[0]!.equals(HEALTH_SERVING))
          throw fail(`got messages ${messages.map((m) => m.toString('hex')).join(',')}`);
        if (trailers?.['grpc-status'] !== '0') throw fail(`got trailer frame ${JSON.stringify(trailers)}`);
        resolve();
      } catch (err) {
        reject(err as Error);
      }
    });
    req.end(grpcFrame(HEALTH_REQUEST));
  }).finally(() => session.close());
}

/** Health/Check calls the Go backend has answered so far. */
export async function backendCalls(statsPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${statsPort}/count`, { signal: AbortSignal.timeout(3000) });
  return Number((await res.text()).trim());
}

/** Sum of Bulkhead's `bulkhead_requests_total` series from its admin /metrics: proof metrics were on. */
export async function bulkheadRequestsTotal(adminPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  let sum = 0;
  for (const line of (await res.text()).split('\n')) {
    const m = line.match(/^bulkhead_requests_total(?:\{[^}]*\})? ([\d.e+]+)$/);
    if (m) sum += Number(m[1]);
  }
  return sum;
}
