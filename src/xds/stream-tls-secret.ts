// The operator's side of the config stream's TLS (see stream-tls.ts): the CA and serving certificate
// live in the Secret `bulkhead-config-tls`; a replica reuses them while they are good (signed by the
// CA, naming every host, not expiring within 30 days), otherwise makes new ones with the webhook's
// certificate maker. The first replica wins a create race; the others adopt its Secret.

import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { generateWebhookCertificates, serviceHostnames } from '../operator/webhook/certs.ts';
import { certificateProblem } from '../operator/webhook/provision.ts';
import type { KubeRest } from '../operator/kube-rest.ts';
import type { ApiResource } from '../operator/api-resources.ts';
import { isConflict, isNotFound } from '../operator/kube-rest.ts';
import { CA_KEY, type StreamTls } from './stream-tls.ts';

export const STREAM_TLS_SECRET = 'bulkhead-config-tls';
export const STREAM_SERVICE = 'bulkhead-config';

const SECRET: ApiResource = { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true };

/** Host names and addresses the serving certificate must name. */
export function streamHosts(namespace: string, extra: string[]): string[] {
  const hosts = [...serviceHostnames(STREAM_SERVICE, namespace), 'localhost', '127.0.0.1'];
  for (const h of extra) if (h !== '' && h !== '0.0.0.0' && h !== '::' && !hosts.includes(h)) hosts.push(h);
  return hosts;
}

function problem(c: StreamTls, hosts: string[]): string | null {
  const p = certificateProblem(c, hosts[0]!);
  if (p !== null) return p;
  const leaf = new X509Certificate(c.cert);
  for (const h of hosts.slice(1))
    if (!(isIP(h) ? leaf.checkIP(h) : leaf.checkHost(h))) return `does not name ${h}`;
  return null;
}

interface SecretObj {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined): string => (s === undefined ? '' : Buffer.from(s, 'base64').toString());

/** The stream's certificate from its Secret when still good, else a new CA + certificate stored there. */
export async function loadOrCreateStreamTls(
  rest: KubeRest,
  namespace: string,
  hosts: string[],
): Promise<StreamTls> {
  for (let attempt = 0; attempt < 3; attempt++) {
    let live: SecretObj | null = null;
    try {
      live = await rest.get<SecretObj>(SECRET, namespace, STREAM_TLS_SECRET);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const d = live?.data ?? {};
    const stored: StreamTls = {
      caCert: unb64(d[CA_KEY]),
      cert: unb64(d['tls.crt']),
      key: unb64(d['tls.key']),
    };
    if (live !== null && stored.cert !== '' && problem(stored, hosts) === null) return stored;
    const made = await generateWebhookCertificates({ hosts });
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        name: STREAM_TLS_SECRET,
        namespace,
        labels: { 'app.kubernetes.io/part-of': 'bulkhead' },
        ...(live?.metadata?.resourceVersion ? { resourceVersion: live.metadata.resourceVersion } : {}),
      },
      data: { 'tls.crt': b64(made.cert), 'tls.key': b64(made.key), [CA_KEY]: b64(made.caCert) },
    };
    try {
      if (live === null) await rest.create(SECRET, body as never);
      else await rest.update(SECRET, body as never);
      return made;
    } catch (err) {
      // another replica stored its certificate first: read again and adopt it
      if (!isConflict(err)) throw err;
    }
  }
  throw new Error(
    `BH_ERR_CONFIG_STREAM_TLS: could not read or store Secret ${namespace}/${STREAM_TLS_SECRET}`,
  );
}
