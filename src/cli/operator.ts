// `bulkhead operator`: runs the controller against the current kubeconfig (or in-cluster
// credentials) until SIGTERM/SIGINT, then releases the leader lease and exits.

import type { Command } from 'commander';
import { startOperator, type OperatorHandle, type OperatorOptions } from '../operator/index.ts';

export { startOperator };
export type { OperatorOptions, OperatorHandle };

interface CliOptions {
  kubeconfig?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  namespace?: string;
  metricsAddr: string;
}

export function registerOperatorCommand(program: Command): void {
  program
    .command('operator')
    .description(
      'run the Bulkhead controller: watch pools, routes and policies; apply per-pool workloads; write status',
    )
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--leader-elect', 'run leader election on a Lease so only one replica writes', false)
    .option('--lease-namespace <ns>', 'namespace of the leader Lease', process.env.POD_NAMESPACE || 'default')
    .option('--namespace <list>', 'comma-separated namespaces to watch (default: all)')
    .option('--metrics-addr <addr>', 'address of /metrics, /healthz and /readyz', ':8081')
    .action(async (o: CliOptions) => {
      const handle = await startOperator({
        kubeconfig: o.kubeconfig,
        leaderElect: o.leaderElect,
        leaseNamespace: o.leaseNamespace,
        namespaces: o.namespace
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        metricsAddr: o.metricsAddr,
        identity: process.env.POD_NAME || undefined,
      }).catch((err: Error) => {
        process.stderr.write(`bulkhead operator: ${err.message}\n`);
        process.exit(1);
      });
      let exiting = false;
      const shutdown = (signal: string) => {
        if (exiting) return;
        exiting = true;
        handle.logger.info({ signal }, 'shutting down');
        handle.stop().then(
          () => process.exit(0),
          (err) => {
            handle.logger.error({ err: String(err) }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}
