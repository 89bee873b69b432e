// The Bulkhead peer of the benchmark, in its own process: loads the snapshot file the runner wrote
// and starts the real data plane in-process (one worker; routing, metrics and access logs on;
// access log lines go to the file given, /dev/null by default).
// Usage: node --import tsx bench/bulkhead-proxy.ts <snapshot.json> <port> <adminPort> [accessLogFile] [secretsDir]
// Prints `ready port=<n> admin=<n> tls=<n>` once listening (tls=0: no listener.tls in the snapshot).

import { loadSnapshotFile, startDataplane } from '../src/dataplane/index.ts';

const [snapshotFile, portArg, adminArg, logFile = '/dev/null', secretsDir] = process.argv.slice(2);
if (!snapshotFile || !portArg || !adminArg) {
  console.error('usage: bulkhead-proxy.ts <snapshot.json> <port> <adminPort> [accessLogFile] [secretsDir]');
  process.exit(2);
}

const snapshot = loadSnapshotFile(snapshotFile);
// The data plane's production writer (64 KB batches to an async sonic-boom) pointed at the file
// instead of stdout: the same buffered writing nginx's `access_log ... buffer=64k` does.
const dp = await startDataplane({
  snapshot,
  port: Number(portArg),
  adminPort: Number(adminArg),
  host: '127.0.0.1',
  workers: 1,
  logFile,
  secretsDir,
});
console.log(`ready port=${dp.port} admin=${dp.adminPort} tls=${dp.tlsPort}`);

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  dp.close()
    .catch(() => undefined)
    .finally(() => {
      process.exit(0);
    });
  setTimeout(() => process.exit(0), 1500).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
