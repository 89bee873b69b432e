// The "node-floor" reference peer: the least a Node proxy can do per request — node:http server,
// undici Pool upstream (the client Bulkhead's HTTP/1.1 upstream also uses), no routing, no
// logging, no metrics, no timeouts, hop-by-hop headers not even stripped. Not a usable proxy: it
// shows how much of Bulkhead's cost is Node's HTTP machinery itself.
// Usage: node --import tsx bench/node-floor-proxy.ts <listenPort> <backendPort>
// Prints `ready port=<n>` once listening.

import http from 'node:http';
import { Pool } from 'undici';

const [portArg, backendArg] = process.argv.slice(2);
if (!portArg || !backendArg) {
  console.error('usage: node-floor-proxy.ts <listenPort> <backendPort>');
  process.exit(2);
}

const pool = new Pool(`http://127.0.0.1:${backendArg}`, { connections: 200, pipelining: 1 });

async function forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    const up = await pool.request({
      path: req.url ?? '/',
      method: req.method as 'GET',
      headers: { host: req.headers.host ?? '' },
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    });
    res.writeHead(up.statusCode, up.headers as http.OutgoingHttpHeaders);
    for await (const chunk of up.body) res.write(chunk);
    res.end();
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
}

const server = http.createServer((req, res) => void forward(req, res));
server.keepAliveTimeout = 75_000;
server.listen(Number(portArg), '127.0.0.1', () => console.log(`ready port=${portArg}`));

const shutdown = (): void => {
  server.close();
  void pool.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
