// The "h2-floor" reference peer for the gRPC suite: the fastest h2c proxy we could write on
// `node:http2` without any feature — each server stream becomes one stream on a single shared client
// session to the backend, request headers copied minus hop-by-hop ones, body chunks written through
// both ways without backpressure (the benchmark's messages are small), the response head, body and
// trailers relayed back. No routing, logs, metrics, timeouts, retries, deadlines or validation. It
// takes the two Node-level savings Bulkhead's h2c path takes (src/dataplane/async-bind.ts and all
// priority options given to request()), so it marks what node:http2's two streams per call cost on
// their own, and the benchmark table shows what Bulkhead's features cost on top of that floor. Not a
// proxy anyone should run.
// Usage: node --import tsx bench/h2-floor-proxy.ts <listenPort> <backendPort>

import http2 from 'node:http2';
import { installAsyncBind } from '../src/dataplane/async-bind.ts';

const [portArg, backendArg] = process.argv.slice(2);
if (!portArg || !backendArg) {
  console.error('usage: h2-floor-proxy.ts <listenPort> <backendPort>');
  process.exit(2);
}
const WINDOW = 8 * 1024 * 1024;
const settings: http2.Settings = { initialWindowSize: WINDOW };
let upstream: http2.ClientHttp2Session | null = null;
const PRIORITY = { weight: 16, parent: 0, exclusive: false, silent: false };
installAsyncBind();

function session(): http2.ClientHttp2Session {
  if (upstream !== null && !upstream.closed && !upstream.destroyed) return upstream;
  const s = http2.connect(`http://127.0.0.1:${backendArg}`, { settings, peerMaxConcurrentStreams: 1000 });
  s.on('connect', () => s.setLocalWindowSize(WINDOW));
  s.on('error', () => undefined);
  s.on('close', () => {
    if (upstream === s) upstream = null;
  });
  upstream = s;
  return s;
}

function onStream(down: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const h: http2.OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (name === 'connection' || name === 'host' || name === ':scheme') continue;
    h[name] = headers[name];
  }
  h[':scheme'] = 'http';
  const up = session().request(h, { endStream: down.endAfterHeaders, ...PRIORITY });
  let trailers: http2.OutgoingHttpHeaders = {};
  up.on('response', (rh, flags) => {
    const out: http2.OutgoingHttpHeaders = {};
    for (const name in rh) if (name !== 'connection') out[name] = rh[name];
    const end = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    down.respond(out, { endStream: end, waitForTrailers: !end });
  });
  up.on('trailers', (t) => (trailers = t));
  down.on('wantTrailers', () => down.sendTrailers(trailers));
  up.on('data', (chunk: Buffer) => down.write(chunk));
  up.on('end', () => down.end());
  if (!down.endAfterHeaders) {
    down.on('data', (chunk: Buffer) => up.write(chunk));
    down.on('end', () => up.end());
  }
  up.on('error', () => down.destroy());
  down.on('error', () => up.destroy());
  down.on('close', () => {
    if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
  });
}

const server = http2.createServer({ settings });
server.on('session', (s) => s.on('connect', () => s.setLocalWindowSize(WINDOW)));
server.on('stream', onStream);
server.listen(Number(portArg), '127.0.0.1', () => console.log(`ready port=${portArg}`));
const shutdown = (): void => {
  server.close();
  upstream?.destroy();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
