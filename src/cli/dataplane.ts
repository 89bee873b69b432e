// `bulkhead dataplane --snapshot <file> [--port N] [--admin-port N]`: runs the data plane of one pool
// from a snapshot file (as printed by `bulkhead render --output snapshots --pool <ns>/<name>`). The
// ports given here override the snapshot's listener ports. SIGTERM/SIGINT drain gracefully: readiness
// fails at once, in-flight requests finish, WebSockets get 1001 after the drain period, then exit.

import type { Command } from 'commander';
import { startDataplane, type Dataplane } from '../dataplane/index.ts';

interface DataplaneCliOptions {
  snapshot: string;
  port?: string;
  adminPort?: string;
  host?: string;
  workers?: string;
}

function parsePort(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${flag}: must be a port number (0-65535), got ${v}`);
  return n;
}

export function registerDataplaneCommand(program: Command): void {
  program
    .command('dataplane')
    .description("run a pool's data plane (HTTP/1.1, h2c, gRPC, WebSocket on one port) from a snapshot file")
    .requiredOption(
      '--snapshot <file>',
      'PoolSnapshot JSON (bulkhead render --output snapshots --pool <ns>/<name>)',
    )
    .option('--port <n>', "data port (overrides the snapshot's listener.port)")
    .option(
      '--admin-port <n>',
      'admin port for /healthz /readyz /metrics /config (overrides listener.adminPort)',
    )
    .option('--host <addr>', 'address to bind', '0.0.0.0')
    .option(
      '--workers <n>',
      "worker processes (overrides the snapshot's workers; default from the CPU limit)",
    )
    .action(async (opts: DataplaneCliOptions) => {
      let dp: Dataplane;
      try {
        dp = await startDataplane({
          snapshotFile: opts.snapshot,
          port: parsePort(opts.port, '--port'),
          adminPort: parsePort(opts.adminPort, '--admin-port'),
          host: opts.host,
          workers: opts.workers === undefined ? undefined : Number(opts.workers),
        });
      } catch (err) {
        process.stderr.write(`bulkhead dataplane: ${(err as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      process.stderr.write(`bulkhead dataplane: serving on port ${dp.port}, admin on ${dp.adminPort}\n`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          // a second signal: stop now
          void dp.close().then(() => process.exit(1));
          return;
        }
        stopping = true;
        process.stderr.write(`bulkhead dataplane: ${signal}, draining\n`);
        void dp.drain().then(() => process.exit(0));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
