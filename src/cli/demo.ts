// `bulkhead demo` (the README's main command) and its two small clients.

import type { Command } from 'commander';
import { demoGrpcCall, demoWebSocket, startDemo } from '../demo/index.ts';

export function registerDemoCommand(program: Command): void {
  const demo = program
    .command('demo')
    .description('run the examples locally: demo backends + a real data plane per pool, no cluster')
    .option('--examples <dir>', 'manifests to run', 'examples')
    .option('--exit-after <seconds>', 'stop after this many seconds (default: run until Ctrl-C)')
    .action(async (opts: { examples: string; exitAfter?: string }) => {
      const d = await startDemo({ examples: opts.examples });
      const out = process.stdout;
      out.write('\nBulkhead demo: the examples/ pools are serving on this machine.\n\n');
      for (const p of d.pools)
        out.write(
          `  pool ${p.key.padEnd(28)} traffic 127.0.0.1:${p.port}  admin 127.0.0.1:${p.adminPort}  ${p.version.slice(0, 19)}…\n`,
        );
      out.write(
        `\n  ${d.backends.length} demo backends stand in for the example Services; access logs go to ${d.accessLog}\n`,
      );
      for (const n of d.notes) out.write(`  ${n}\n`);
      out.write('\nTry:\n');
      for (const t of d.tryIt) out.write(`\n  # ${t.title}\n  $ ${t.command}\n`);
      out.write('\nCtrl-C stops everything.\n');
      const stop = async () => {
        await d.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (opts.exitAfter) setTimeout(stop, Number(opts.exitAfter) * 1000).unref();
      await new Promise(() => {});
    });
  demo
    .command('grpc <address>')
    .description('a gRPC call to the payments example through the gateway')
    .option('--authority <host>', ':authority to send', 'payments.example.com')
    .action(async (address: string, o: { authority: string }) => {
      process.stdout.write((await demoGrpcCall(address, o.authority)) + '\n');
    });
  demo
    .command('ws <url>')
    .description('a WebSocket round trip through the gateway')
    .option('--host <host>', 'Host header', 'live.example.com')
    .action(async (url: string, o: { host: string }) => {
      process.stdout.write((await demoWebSocket(url, o.host)) + '\n');
    });
}
