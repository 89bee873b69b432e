// The webhook's certificate in a cluster, made and injected by the operator at start-up (see
// cdk8s/README.md): reuse mounted files or the Secret when they are still good, otherwise make a
// CA + serving certificate and store it in the Secret (the first replica wins a create race, the
// other adopts its Secret), then put the CA into the ValidatingWebhookConfiguration's caBundle.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import { generateWebhookCertificates, serviceHostnames, type WebhookCertificates } from './certs.ts';

export interface TlsProvisionOptions {
  namespace: string;
  secretName: string;
  serviceName: string;
  webhookConfigName: string;
  /** the Secret's mount; its files win when present and good */
  certDir?: string;
  /** make a new certificate when the current one expires within this many days; 30 by default */
  renewBeforeDays?: number;
  /** for tests; the real clock by default */
  now?: () => Date;
}

export interface ProvisionedTls extends WebhookCertificates {
  /** where the certificate came from */
  source: 'files' | 'secret' | 'generated';
}

const KEYS = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

export async function provisionWebhookTls(
  kc: KubeConfig,
  opts: TlsProvisionOptions,
): Promise<ProvisionedTls> {
  const core = kc.makeApiClient(CoreV1Api);
  const host = `${opts.serviceName}.${opts.namespace}.svc`;
  const good = (c: WebhookCertificates | null): c is WebhookCertificates =>
    c !== null && certificateProblem(c, host, opts) === null;

  let tls: ProvisionedTls | null = null;
  const files = opts.certDir ? await readCertDir(opts.certDir) : null;
  if (good(files)) tls = { ...files, source: 'files' };
  for (let attempt = 0; !tls && attempt < 3; attempt++) {
    const secret = await readSecret(core, opts);
    const stored = secret ? fromSecret(secret) : null;
    if (good(stored)) {
      tls = { ...stored, source: 'secret' };
      break;
    }
    const made = await generateWebhookCertificates({
      hosts: serviceHostnames(opts.serviceName, opts.namespace),
    });
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        name: opts.secretName,
        namespace: opts.namespace,
        labels: { 'app.kubernetes.io/part-of': 'bulkhead' },
        resourceVersion: secret?.metadata?.resourceVersion,
      },
      data: { [KEYS.cert]: b64(made.cert), [KEYS.key]: b64(made.key), [KEYS.ca]: b64(made.caCert) },
    };
    try {
      if (secret)
        await core.replaceNamespacedSecret({ name: opts.secretName, namespace: opts.namespace, body });
      else await core.createNamespacedSecret({ namespace: opts.namespace, body });
      tls = { ...made, source: 'generated' };
    } catch (err) {
      // another replica stored its certificate first: read again and adopt it
      if (!isStatus(err, 409)) throw err;
    }
  }
  if (!tls)
    throw new Error(
      `BH_ERR_WEBHOOK_CERT: could not store Secret ${opts.namespace}/${opts.secretName} after 3 attempts`,
    );
  await injectCaBundle(kc, opts.webhookConfigName, tls.caCert);
  return tls;
}

/** Why a certificate cannot be served (null when it can): names, chain, key pair, expiry. */
export function certificateProblem(
  c: WebhookCertificates,
  host: string,
  opts: Pick<TlsProvisionOptions, 'renewBeforeDays' | 'now'> = {},
): string | null {
  try {
    const leaf = new X509Certificate(c.cert);
    const ca = new X509Certificate(c.caCert);
    if (!leaf.checkHost(host)) return `does not name ${host}`;
    if (!leaf.verify(ca.publicKey)) return 'is not signed by ca.crt';
    if (!leaf.checkPrivateKey(createPrivateKey(c.key))) return 'does not match tls.key';
    const now = (opts.now ?? (() => new Date()))().getTime();
    const renewAt = new Date(leaf.validTo).getTime() - (opts.renewBeforeDays ?? 30) * 86_400_000;
    if (now >= renewAt || now < new Date(leaf.validFrom).getTime())
      return `is outside its renewal window (valid ${leaf.validFrom} – ${leaf.validTo})`;
    return null;
  } catch (err) {
    return `cannot be read (${(err as Error).message})`;
  }
}

/** Set caBundle on every webhook of the configuration; a no-op when it already matches. */
export async function injectCaBundle(kc: KubeConfig, name: string, caPem: string): Promise<boolean> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const bundle = b64(caPem);
  for (let attempt = 0; attempt < 5; attempt++) {
    const cfg = await api.readValidatingWebhookConfiguration({ name });
    const hooks = cfg.webhooks ?? [];
    if (hooks.every((w) => w.clientConfig.caBundle === bundle)) return false;
    for (const w of hooks) w.clientConfig.caBundle = bundle;
    try {
      await api.replaceValidatingWebhookConfiguration({ name, body: cfg });
      return true;
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
  }
  throw new Error(
    `BH_ERR_WEBHOOK_CERT: ValidatingWebhookConfiguration ${name} kept changing; caBundle not injected`,
  );
}

async function readSecret(core: CoreV1Api, opts: TlsProvisionOptions): Promise<V1Secret | null> {
  try {
    return await core.readNamespacedSecret({ name: opts.secretName, namespace: opts.namespace });
  } catch (err) {
    if (isStatus(err, 404)) return null;
    throw err;
  }
}

function fromSecret(s: V1Secret): WebhookCertificates | null {
  const d = s.data ?? {};
  if (!d[KEYS.cert] || !d[KEYS.key] || !d[KEYS.ca]) return null;
  const text = (v: string) => Buffer.from(v, 'base64').toString('utf8');
  return { cert: text(d[KEYS.cert]), key: text(d[KEYS.key]), caCert: text(d[KEYS.ca]) };
}

async function readCertDir(dir: string): Promise<WebhookCertificates | null> {
  try {
    const [cert, key, caCert] = await Promise.all(
      [KEYS.cert, KEYS.key, KEYS.ca].map((f) => readFile(join(dir, f), 'utf8')),
    );
    return { cert: cert!, key: key!, caCert: caCert! };
  } catch {
    return null;
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const isStatus = (err: unknown, code: number) => (err as { code?: number })?.code === code;
