// The Bulkhead peer of the benchmark, in its own process: loads the snapshot file the runner wrote
// and starts the real data plane (single process, routing, metrics and access logs on; access log
// lines go to the file given, /dev/null by default).
// Usage: node --import tsx bench/bulkhead-proxy.ts <snapshot.json> <port> <adminPort> [accessLogFile]
// Prints `ready port=<n> admin=<n>` once listening.

import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Writable } from 'node:stream';
import type { PoolSnapshot } from '../src/ir/snapshot.ts';

interface DataplaneHandle {
  port: number;
  adminPort: number;
  close(): Promise<void> | void;
}
type StartDataplane = (o: { snapshot: PoolSnapshot; port: number; adminPort: number; logStream: Writable }) => Promise<DataplaneHandle> | DataplaneHandle;

const [snapshotFile, portArg, adminArg, logFile = '/dev/null'] = process.argv.slice(2);
if (!snapshotFile || !portArg || !adminArg) {
  console.error('usage: bulkhead-proxy.ts <snapshot.json> <port> <adminPort> [accessLogFile]');
  process.exit(2);
}

// Loaded by URL at run time so the runner still works (and reports this peer as failed) in a tree
// where the data plane entry point is missing or broken.
const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/dataplane/index.ts');
let startDataplane: StartDataplane;
try {
  const mod = (await import(pathToFileURL(entry).href)) as { startDataplane?: StartDataplane };
  if (typeof mod.startDataplane !== 'function') throw new Error('it exports no startDataplane()');
  startDataplane = mod.startDataplane;
} catch (err) {
  console.error(`BH_BENCH_NO_DATAPLANE: cannot load ${entry}: ${(err as Error).message}`);
  process.exit(3);
}

const snapshot = JSON.parse(readFileSync(snapshotFile, 'utf8')) as PoolSnapshot;
const logStream = createWriteStream(logFile, { flags: 'a' });
const dp = await startDataplane({ snapshot, port: Number(portArg), adminPort: Number(adminArg), logStream });
console.log(`ready port=${dp.port} admin=${dp.adminPort}`);

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  Promise.resolve(dp.close())
    .catch(() => undefined)
    .finally(() => logStream.end(() => process.exit(0)));
  setTimeout(() => process.exit(0), 1500).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
