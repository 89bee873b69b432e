// gRPC-Web through the data plane to a real @grpc/grpc-js server over h2c, with hand-written
// gRPC-Web clients: fetch (undici, HTTP/1.1) and node:http2 (h2c), binary and text (base64)
// modes, unary and server streaming, status and custom trailers in the 0x80 trailer frame, an error
// status, and streaming without buffering: the server sends its second message only after the
// client has received the first.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { cluster, route, snapshot, startProxy } from './fixtures.ts';

const id = (b: Buffer): Buffer => b;
const def = (path: string, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: id,
  requestDeserialize: id,
  responseSerialize: id,
  responseDeserialize: id,
});

/** resolves when the client has seen the first streamed message (set per call) */
let firstSeen: (() => void) | null = null;
let firstSeenPromise: Promise<void> = Promise.resolve();
const order: string[] = [];

async function grpcServer(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(
    { echo: def('/web.Echo/Unary', false), stream: def('/web.Echo/Stream', true) },
    {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const text = call.request.toString();
        if (text === 'missing') return cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
        const trailer = new grpc.Metadata();
        trailer.set('x-trailer', 't1');
        cb(null, Buffer.from('echo:' + text + ':' + String(call.metadata.get('x-user')[0] ?? '')), trailer);
      },
      stream: async (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        call.write(Buffer.from('first'));
        order.push('server wrote first');
        // the second message waits for the client to have the first (at most 5 s)
        await Promise.race([firstSeenPromise, new Promise((r) => setTimeout(r, 5000))]);
        order.push('server writes second');
        call.write(Buffer.from('second'));
        call.end();
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

// ---- a hand-written gRPC-Web client: framing, base64, trailer frame ----
function frame(msg: Buffer): Buffer {
  const f = Buffer.alloc(5 + msg.length);
  f.writeUInt32BE(msg.length, 1);
  msg.copy(f, 5);
  return f;
}

/** Incremental reader of a gRPC-Web response body (binary bytes or base64 text). */
class WebReader {
  private bytes = Buffer.alloc(0);
  private text = '';
  messages: string[] = [];
  trailers: Record<string, string> | null = null;
  constructor(
    private readonly textMode: boolean,
    private readonly onMessage: (m: string) => void = () => {},
  ) {}
  push(chunk: Buffer): void {
    if (this.textMode) {
      // each 4-character group decoded on its own: padded segments may follow one another
      this.text += chunk.toString('latin1');
      const usable = this.text.length - (this.text.length % 4);
      const parts: Buffer[] = [];
      for (let i = 0; i < usable; i += 4) parts.push(Buffer.from(this.text.slice(i, i + 4), 'base64'));
      this.text = this.text.slice(usable);
      chunk = Buffer.concat(parts);
    }
    this.bytes = Buffer.concat([this.bytes, chunk]);
    while (this.bytes.length >= 5) {
      const len = this.bytes.readUInt32BE(1);
      if (this.bytes.length < 5 + len) break;
      const flag = this.bytes[0]!;
      const payload = this.bytes.subarray(5, 5 + len).toString('latin1');
      this.bytes = this.bytes.subarray(5 + len);
      if (flag & 0x80) {
        this.trailers = {};
        for (const line of payload.split('\r\n').filter(Boolean)) {
          const at = line.indexOf(':');
          this.trailers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
        }
      } else {
        this.messages.push(payload);
        this.onMessage(payload);
      }
    }
  }
}

const modes = [
  { name: 'binary', ct: 'application/grpc-web+proto', text: false },
  { name: 'text', ct: 'application/grpc-web-text', text: true },
] as const;

function body(msg: string, text: boolean): Buffer {
  const f = frame(Buffer.from(msg));
  return text ? Buffer.from(f.toString('base64')) : f;
}

/** HTTP/1.1 via fetch (undici); the body is read as it arrives */
async function viaFetch(
  port: number,
  path: string,
  mode: (typeof modes)[number],
  msg: string,
  onMessage?: (m: string) => void,
) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': mode.ct, 'x-grpc-web': '1', 'x-user': 'u1', accept: mode.ct },
    body: new Uint8Array(body(msg, mode.text)),
  });
  const reader = new WebReader(mode.text, onMessage);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) reader.push(Buffer.from(chunk));
  return { status: res.status, headers: res.headers, reader };
}

/** h2c via node:http2 */
function viaH2(
  session: http2.ClientHttp2Session,
  path: string,
  mode: (typeof modes)[number],
  msg: string,
  onMessage?: (m: string) => void,
) {
  return new Promise<{ headers: http2.IncomingHttpHeaders; reader: WebReader; httpTrailers: boolean }>(
    (resolve, reject) => {
      const reader = new WebReader(mode.text, onMessage);
      let headers: http2.IncomingHttpHeaders = {};
      let httpTrailers = false;
      const s = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': mode.ct,
        'x-grpc-web': '1',
        'x-user': 'u2',
      });
      s.on('response', (h) => (headers = h));
      s.on('trailers', () => (httpTrailers = true));
      s.on('data', (c: Buffer) => reader.push(c));
      s.on('end', () => resolve({ headers, reader, httpTrailers }));
      s.on('error', reject);
      s.end(body(msg, mode.text));
    },
  );
}

let server: grpc.Server;
let dp: Awaited<ReturnType<typeof startProxy>>;

test.before(async () => {
  const g = await grpcServer();
  server = g.server;
  dp = await startProxy(
    snapshot({
      routes: [
        route('team/web/grpc', 'team/grpc:80', {
          grpcWeb: true,
          cors: {
            allowOrigins: ['https://*.example.com'],
            allowMethods: ['POST'],
            allowHeaders: ['content-type', 'x-grpc-web', 'x-user'],
            exposeHeaders: ['grpc-status', 'grpc-message'],
            maxAgeSeconds: 600,
            allowCredentials: false,
          },
        }),
      ],
      clusters: [cluster('team/grpc:80', [g.port], { protocol: 'H2C' })],
    }),
  );
});

test.after(async () => {
  await dp.close();
  server.forceShutdown();
});

for (const mode of modes) {
  test(`HTTP/1.1 ${mode.name}: unary with trailers in the last frame; an error status`, async () => {
    const r = await viaFetch(dp.port, '/web.Echo/Unary', mode, 'hi');
    assert.is(r.status, 200);
    assert.is(
      r.headers.get('content-type'),
      mode.text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto',
    );
    assert.equal(r.reader.messages, ['echo:hi:u1']);
    assert.is(r.reader.trailers?.['grpc-status'], '0');
    assert.is(r.reader.trailers?.['x-trailer'], 't1');
    const missing = await viaFetch(dp.port, '/web.Echo/Unary', mode, 'missing');
    const status = missing.headers.get('grpc-status') ?? missing.reader.trailers?.['grpc-status'];
    assert.is(status, String(grpc.status.NOT_FOUND));
    assert.equal(missing.reader.messages, []);
  });

  test(`HTTP/1.1 ${mode.name}: server streaming is relayed message by message`, async () => {
    order.length = 0;
    firstSeenPromise = new Promise((r) => (firstSeen = r));
    const r = await viaFetch(dp.port, '/web.Echo/Stream', mode, 'go', (m) => {
      order.push(`client got ${m}`);
      if (m === 'first') firstSeen!();
    });
    assert.equal(r.reader.messages, ['first', 'second']);
    assert.is(r.reader.trailers?.['grpc-status'], '0');
    assert.equal(order, [
      'server wrote first',
      'client got first',
      'server writes second',
      'client got second',
    ]);
  });

  test(`h2c ${mode.name}: unary and streaming, trailers only as a frame`, async () => {
    const session = http2.connect(`http://127.0.0.1:${dp.port}`);
    try {
      const u = await viaH2(session, '/web.Echo/Unary', mode, 'yo');
      assert.is(u.headers[':status'], 200);
      assert.match(
        String(u.headers['content-type']),
        mode.text ? /^application\/grpc-web-text/ : /^application\/grpc-web\+/,
      );
      assert.equal(u.reader.messages, ['echo:yo:u2']);
      assert.is(u.reader.trailers?.['grpc-status'], '0');
      assert.not.ok(u.httpTrailers, 'no HTTP/2 trailers for gRPC-Web');
      order.length = 0;
      firstSeenPromise = new Promise((r) => (firstSeen = r));
      const s = await viaH2(session, '/web.Echo/Stream', mode, 'go', (m) => {
        order.push(`client got ${m}`);
        if (m === 'first') firstSeen!();
      });
      assert.equal(s.reader.messages, ['first', 'second']);
      assert.equal(order, [
        'server wrote first',
        'client got first',
        'server writes second',
        'client got second',
      ]);
    } finally {
      session.close();
    }
  });
}

test('a browser flow: CORS preflight answered by the gateway, then the translated call with CORS headers', async () => {
  const pre = await fetch(`http://127.0.0.1:${dp.port}/web.Echo/Unary`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-grpc-web,x-user',
    },
  });
  await pre.arrayBuffer();
  assert.is(pre.status, 204);
  assert.is(pre.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.is(pre.headers.get('access-control-allow-headers'), 'content-type, x-grpc-web, x-user');
  const res = await fetch(`http://127.0.0.1:${dp.port}/web.Echo/Unary`, {
    method: 'POST',
    headers: {
      origin: 'https://app.example.com',
      'content-type': 'application/grpc-web-text',
      'x-grpc-web': '1',
    },
    body: new Uint8Array(body('cors', true)),
  });
  const reader = new WebReader(true);
  reader.push(Buffer.from(await res.arrayBuffer()));
  assert.equal(reader.messages, ['echo:cors:']);
  assert.is(reader.trailers?.['grpc-status'], '0');
  assert.is(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.is(res.headers.get('access-control-expose-headers'), 'grpc-status, grpc-message');
});

test('metrics and access log see the gRPC status of translated calls', async () => {
  await viaFetch(dp.port, '/web.Echo/Unary', modes[0], 'missing');
  const text = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
  assert.match(text, /bulkhead_requests_total\{[^}]*route="team\/web\/grpc"[^}]*grpc_status="5"[^}]*\} \d+/);
});

test.run();
