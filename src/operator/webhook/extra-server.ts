// The webhook as one of the operator's extra servers: at start it provisions its certificate
// (Secret + caBundle, see provision.ts) and serves admission against the operator's caches.
// Every replica serves, leader or not: the webhook Service spreads calls over all ready pods.

import type { ExtraServer, OperatorContext } from '../operator.ts';
import { provisionWebhookTls, type ProvisionedTls, type TlsProvisionOptions } from './provision.ts';
import { createWebhookServer, type WebhookServer } from './server.ts';

export interface WebhookExtraServerOptions extends TlsProvisionOptions {
  /** `[host]:port` to listen on, e.g. `:9443` */
  addr: string;
}

export interface WebhookExtraServer extends ExtraServer {
  /** the listening port and the certificate in use, once started */
  port(): number | undefined;
  tls(): ProvisionedTls | undefined;
}

export function parseListenAddr(addr: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(addr);
  if (!m) throw new Error(`BH_ERR_WEBHOOK_ADDR: ${JSON.stringify(addr)} is not [host]:port`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(m[2]) };
}

export function webhookExtraServer(opts: WebhookExtraServerOptions): WebhookExtraServer {
  const { host, port } = parseListenAddr(opts.addr);
  let server: WebhookServer | undefined;
  let tls: ProvisionedTls | undefined;
  return {
    async start(ctx: OperatorContext) {
      tls = await provisionWebhookTls(ctx.kubeConfig, opts);
      server = await createWebhookServer({
        key: tls.key,
        cert: tls.cert,
        host,
        port,
        world: () => ctx.bag(),
      });
      ctx.logger.info({ port: server.port, certificate: tls.source }, 'admission webhook serving');
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
    port: () => server?.port,
    tls: () => tls,
  };
}
