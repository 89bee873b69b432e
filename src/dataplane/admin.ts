// Admin server (Fastify, its own port, started before the data listener): probes and observability
// that keep answering while the data port is overloaded. /healthz is about this process only (the
// event loop runs), never about backends; /readyz is 200 once a snapshot is loaded and 503 while
// draining; /metrics is the Prometheus registry (aggregated across workers in a cluster primary);
// /config is the snapshot being served, to loopback peers or an admin token, with secrets redacted
// (admin-config.ts).

import Fastify, { type FastifyInstance } from 'fastify';
import { configAccess, redactSecrets } from './admin-config.ts';

export interface AdminSource {
  ready(): boolean;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** the snapshot being served and its version, or null before the first one */
  config(): { version: string; snapshot: unknown } | null;
}

export async function startAdmin(
  src: AdminSource,
  port: number,
  host: string,
  /** opens /config to non-loopback clients with `Authorization: Bearer <token>`; null = loopback only */
  adminToken: string | null = null,
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok\n'));
  app.get('/readyz', async (_req, reply) => {
    const ok = src.ready();
    return reply
      .code(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'ready\n' : 'not ready\n');
  });
  app.get('/metrics', async (_req, reply) => {
    const m = await src.metrics();
    return reply.type(m.contentType).send(m.body);
  });
  app.get('/config', async (req, reply) => {
    const access = configAccess(req.socket.remoteAddress, req.headers.authorization, adminToken);
    if (!access.ok) return reply.code(access.status).send({ error: access.error });
    const c = src.config();
    if (c === null) return reply.code(503).send({ error: 'no snapshot loaded yet' });
    return reply.send({ version: c.version, snapshot: redactSecrets(c.snapshot) });
  });
  await app.listen({ port, host });
  const addr = app.server.address();
  return { app, port: typeof addr === 'object' && addr !== null ? addr.port : port };
}
