// The node-http-proxy peer: the `http-proxy` package in the smallest sensible Node reverse proxy,
// with a keep-alive agent (200 idle sockets, as the other peers' upstream pools), no logging.
// Usage: node --import tsx bench/node-http-proxy.ts <listenPort> <backendPort>
// Prints `ready port=<n>` once listening.

import http from 'node:http';
import httpProxy from 'http-proxy';

const [portArg, backendArg] = process.argv.slice(2);
if (!portArg || !backendArg) {
  console.error('usage: node-http-proxy.ts <listenPort> <backendPort>');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 200, keepAliveMsecs: 1000 });
const proxy = httpProxy.createProxyServer({
  target: `http://127.0.0.1:${backendArg}`,
  agent,
  proxyTimeout: 3000,
});

proxy.on('error', (_err, _req, res) => {
  // `res` is a socket for upgrade errors; this proxy only forwards plain requests.
  if (res instanceof http.ServerResponse && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway\n');
  }
});

const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 75_000;
server.listen(Number(portArg), '127.0.0.1', () => {
  const addr = server.address();
  console.log(`ready port=${typeof addr === 'object' && addr ? addr.port : portArg}`);
});

const shutdown = (): void => {
  server.close();
  agent.destroy();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
