// `bulkhead dataplane --snapshot <file> [--port N] [--admin-port N] [--secrets <dir>]`: runs the data plane of one pool
// from a snapshot file (as printed by `bulkhead render --output snapshots --pool <ns>/<name>`). The
// ports given here override the snapshot's listener ports. SIGTERM/SIGINT drain gracefully: readiness
// fails at once, in-flight requests finish, WebSockets get 1001 after the drain period, then exit.

import type { Command } from 'commander';
import { startDataplane, type Dataplane } from '../dataplane/index.ts';
import type { ConfigStreamClient } from '../xds/client.ts';
import { linkToControlPlane } from '../xds/dataplane-link.ts';

interface DataplaneCliOptions {
  snapshot: string;
  controlPlane?: string;
  pool?: string;
  credential?: string;
  controlPlaneCa?: string;
  port?: string;
  adminPort?: string;
  host?: string;
  workers?: string;
  secrets?: string;
  tlsPort?: string;
  logLevel?: string;
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
    .option('--tls-port <n>', "HTTPS port (overrides the snapshot's listener.tls.port)")
    .option(
      '--secrets <dir>',
      'Secrets as files <dir>/<namespace>/<name>/<key> (TLS certificates and keys, CAs, JWKS, Redis URLs)',
    )
    .option('--host <addr>', 'address to bind', '0.0.0.0')
    .option(
      '--workers <n>',
      "worker processes (overrides the snapshot's workers; default from the CPU limit)",
    )
    .option(
      '--control-plane <addr>',
      "the operator's config stream (host:port); the snapshot file is the bootstrap",
    )
    .option('--pool <namespace/name>', 'the pool this data plane serves (with --control-plane)')
    .option('--credential <file>', "the pool's token, the mounted Secret key `token` (with --control-plane)")
    .option(
      '--control-plane-ca <file>',
      "the operator's CA (PEM) to verify the config stream's TLS; default ca.crt beside --credential",
    )
    .option('--log-level <level>', 'process logs: trace | debug | info | warn | error (access lines always)')
    .action(async (opts: DataplaneCliOptions) => {
      if (opts.logLevel !== undefined) {
        if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(opts.logLevel)) {
          process.stderr.write(
            `bulkhead dataplane: BH_ERR_USAGE: --log-level ${JSON.stringify(opts.logLevel)}: use trace, debug, info, warn or error\n`,
          );
          process.exitCode = 2;
          return;
        }
        process.env.BULKHEAD_LOG_LEVEL = opts.logLevel;
      }
      if (opts.controlPlane && (!opts.pool || !opts.credential)) {
        process.stderr.write(
          'bulkhead dataplane: --control-plane needs --pool <namespace>/<name> and --credential <file>\n',
        );
        process.exitCode = 1;
        return;
      }
      let dp: Dataplane;
      try {
        dp = await startDataplane({
          snapshotFile: opts.snapshot,
          port: parsePort(opts.port, '--port'),
          adminPort: parsePort(opts.adminPort, '--admin-port'),
          host: opts.host,
          workers: opts.workers === undefined ? undefined : Number(opts.workers),
          // this process is the data plane: escaped errors are logged and counted, not fatal
          guardProcess: true,
          secretsDir: opts.secrets,
          // /config answers loopback clients only, unless this token is set (then bearer access)
          adminToken: process.env.BULKHEAD_ADMIN_TOKEN || null,
          tlsPort: parsePort(opts.tlsPort, '--tls-port'),
        });
      } catch (err) {
        process.stderr.write(`bulkhead dataplane: ${(err as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      process.stderr.write(
        `bulkhead dataplane: serving on port ${dp.port}${dp.tlsPort ? `, HTTPS on ${dp.tlsPort}` : ''}, admin on ${dp.adminPort}\n`,
      );
      let stream: ConfigStreamClient | null = null;
      if (opts.controlPlane) {
        try {
          stream = linkToControlPlane(
            { apply: (s) => dp.applyAndWait(s), version: () => dp.store.peek()?.version ?? null },
            {
              address: opts.controlPlane,
              pool: opts.pool!,
              credentialFile: opts.credential!,
              caFile: opts.controlPlaneCa,
            },
          );
        } catch (err) {
          process.stderr.write(`bulkhead dataplane: ${(err as Error).message}\n`);
          await dp.close();
          process.exitCode = 1;
          return;
        }
        stream.on('connected', () =>
          process.stderr.write(`bulkhead dataplane: following ${opts.pool} on ${opts.controlPlane}\n`),
        );
        stream.on('refused', (v: string, e: string) =>
          process.stderr.write(`bulkhead dataplane: refused ${v}: ${e}\n`),
        );
      }
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          // a second signal: stop now
          void dp.close().then(() => process.exit(1));
          return;
        }
        stopping = true;
        stream?.stop();
        process.stderr.write(`bulkhead dataplane: ${signal}, draining\n`);
        void dp.drain().then(() => process.exit(0));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
