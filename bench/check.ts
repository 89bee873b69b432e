// One real request through a peer before it is measured: the HTTP path must return the backend's
// body, the gRPC path must complete a Health/Check call with grpc-status OK and a SERVING answer
// (checked by @grpc/grpc-js, which reads the trailers that h2load ignores).

import grpc from '@grpc/grpc-js';
import http from 'node:http';
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
