// `bulkhead operator`: runs the controller against the current kubeconfig (or in-cluster
// credentials) until SIGTERM/SIGINT, then releases the leader lease and exits.

import type { Command } from 'commander';
import {
  startOperator,
  type ExtraServer,
  type OperatorHandle,
  type OperatorOptions,
} from '../operator/index.ts';
import { webhookExtraServer } from '../operator/webhook/extra-server.ts';
import { configStreamExtraServer } from '../xds/operator-stream.ts';
import { IMAGE } from '../version.ts';
import pino from 'pino';

export { startOperator };
export type { OperatorOptions, OperatorHandle };

interface CliOptions {
  kubeconfig?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  namespace?: string;
  metricsAddr: string;
  webhookAddr?: string;
  webhookCertDir?: string;
  webhookSecret: string;
  webhookService: string;
  webhookConfig: string;
  configStreamAddr?: string;
  controlPlaneAddress?: string;
  image?: string;
  logLevel: string;
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
    .option('--webhook-addr <addr>', 'serve the validating admission webhook (HTTPS) on [host]:port')
    .option('--webhook-cert-dir <dir>', 'mounted webhook TLS Secret (tls.crt, tls.key, ca.crt)')
    .option(
      '--webhook-secret <name>',
      'Secret holding the webhook certificate (made when missing)',
      'bulkhead-webhook-tls',
    )
    .option(
      '--webhook-service <name>',
      'Service the API server calls the webhook through',
      'bulkhead-webhook',
    )
    .option(
      '--webhook-config <name>',
      'ValidatingWebhookConfiguration whose caBundle is kept current',
      'bulkhead',
    )
    .option('--config-stream-addr <addr>', "serve the data planes' config stream (gRPC) on [host]:port")
    .option(
      '--control-plane-address <host:port>',
      'the config-stream address data-plane pods dial (a Service name)',
    )
    .option(
      '--image <ref>',
      'image for pools whose spec.deployment.image is empty (default: BULKHEAD_IMAGE, else this release)',
      process.env.BULKHEAD_IMAGE || IMAGE,
    )
    .option(
      '--log-level <level>',
      'trace | debug | info | warn | error',
      process.env.BULKHEAD_LOG_LEVEL || 'info',
    )
    .action(async (o: CliOptions) => {
      if (!(o.logLevel in pino.levels.values) && o.logLevel !== 'silent') {
        process.stderr.write(
          `bulkhead operator: BH_ERR_USAGE: --log-level ${JSON.stringify(o.logLevel)}: use trace, debug, info, warn or error\n`,
        );
        process.exitCode = 2;
        return;
      }
      const namespace = process.env.POD_NAMESPACE || o.leaseNamespace || 'default';
      const extraServers: ExtraServer[] = [];
      if (o.webhookAddr) {
        extraServers.push(
          webhookExtraServer({
            addr: o.webhookAddr,
            namespace,
            secretName: o.webhookSecret,
            serviceName: o.webhookService,
            webhookConfigName: o.webhookConfig,
            certDir: o.webhookCertDir,
          }),
        );
      }
      if (o.configStreamAddr) {
        const addr = o.configStreamAddr.startsWith(':') ? `0.0.0.0${o.configStreamAddr}` : o.configStreamAddr;
        // the certificate also names the host data planes dial (--control-plane-address)
        const hosts = o.controlPlaneAddress ? [o.controlPlaneAddress.replace(/:\d+$/, '')] : [];
        extraServers.push(configStreamExtraServer({ addr, namespace, hosts }));
      }
      const handle = await startOperator({
        extraServers,
        controlPlaneAddress: o.controlPlaneAddress,
        image: o.image,
        logger: pino({ name: 'bulkhead-operator', level: o.logLevel }, pino.destination(2)),
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
