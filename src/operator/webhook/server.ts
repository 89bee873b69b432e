// The validating admission webhook: Fastify over HTTPS, POST /validate. The API server calls it
// for CREATE/UPDATE of the three kinds; the answer comes from reviewAdmission (pure).

import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { ResourceBag } from '../../compiler/resources.ts';
import { AdmissionReviewError, reviewAdmission } from './review.ts';

export interface WebhookServerOptions {
  /** PEM private key and certificate chain the API server verifies against the caBundle */
  key: string | Buffer;
  cert: string | Buffer;
  /** 0 picks a free port */
  port: number;
  host: string;
  /** the world the admitted object is judged against (the operator's informer caches) */
  world: () => ResourceBag;
}

export interface WebhookServer {
  port: number;
  /** the Fastify instance, for the operator's extra routes or tests */
  app: FastifyInstance;
  close(): Promise<void>;
}

/** AdmissionReviews carry the whole object twice (object, oldObject); objects may reach 1.5 MiB. */
const BODY_LIMIT = 4 * 1024 * 1024;

export async function createWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const app = Fastify({ https: { key: opts.key, cert: opts.cert }, bodyLimit: BODY_LIMIT, logger: false });
  app.post('/validate', async (request, reply) => {
    try {
      return reviewAdmission(request.body, opts.world);
    } catch (err) {
      if (err instanceof AdmissionReviewError)
        return reply.code(err.statusCode).send({ code: err.code, message: err.message });
      throw err;
    }
  });
  app.get('/healthz', async () => ({ ok: true }));
  await app.listen({ port: opts.port, host: opts.host });
  const port = (app.server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    port,
    app,
    close: () => (closed ??= app.close()),
  };
}
