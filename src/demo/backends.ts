// Local demo backends standing in for the examples' Services: HTTP echo servers, a gRPC payments
// service over h2c and WebSocket echo servers, all on 127.0.0.1 ephemeral ports.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

export interface DemoBackend {
  /** `<namespace>/<service>` of the example Service it stands in for */
  service: string;
  kind: 'http' | 'grpc';
  port: number;
  close(): Promise<void>;
}

const PROTO = fileURLToPath(new URL('./payments.proto', import.meta.url));

export function paymentsDefinition(): any {
  const def = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, defaults: true });
  return (grpc.loadPackageDefinition(def) as any).payments.v1.PaymentService;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** HTTP echo (JSON describing the request it saw) that also accepts WebSocket upgrades and echoes messages. */
export async function httpEcho(service: string): Promise<DemoBackend> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        service,
        method: req.method,
        path: req.url,
        host: req.headers.host,
        forwardedFor: req.headers['x-forwarded-for'] ?? null,
        requestId: req.headers['x-request-id'] ?? null,
        bodyBytes: Buffer.concat(chunks).length,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': service });
      res.end(body + '\n');
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.send(JSON.stringify({ service, path: req.url, hello: 'connected' }));
    ws.on('message', (data) => ws.send(`${service} echo: ${data.toString()}`));
  });
  const port = await listen(server);
  return {
    service,
    kind: 'http',
    port,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => server.close(() => r()));
      }),
  };
}

export async function paymentsGrpc(service: string): Promise<DemoBackend> {
  const server = new grpc.Server();
  let n = 0;
  server.addService(paymentsDefinition().service, {
    charge: (call: any, cb: any) => {
      if (!call.request.account)
        return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'account is required' });
      cb(null, {
        id: `ch_${++n}`,
        status: `charged ${call.request.amountCents} cents to ${call.request.account}`,
        servedBy: service,
      });
    },
    settlements: (call: any) => {
      for (let i = 1; i <= Math.min(call.request.count || 3, 100); i++) call.write({ seq: i });
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { service, kind: 'grpc', port, close: () => new Promise((r) => server.tryShutdown(() => r())) };
}
