// TLS for the config stream. The operator makes its own CA and a serving certificate for the
// stream, as it does for the admission webhook (src/operator/webhook/certs.ts), keeps them in the
// Secret `bulkhead-config-tls` (the first replica wins a create race, the others adopt it), and
// copies the CA next to each pool's token in the pool's credential Secret (key `ca.crt`), which only
// that pool's pods mount. Data planes verify the operator against that CA, so the bearer token is
// only ever sent inside TLS. Plaintext remains for loopback addresses only (local runs and tests,
// where nothing crosses a network); a data plane refuses to send its token in clear anywhere else.

// This file is the part both sides load (the data plane must not pull in the operator's Kubernetes
// client); the operator's Secret handling is in stream-tls-secret.ts.

import * as grpc from '@grpc/grpc-js';

export interface StreamTls {
  /** PEM of the operator's CA (what data planes trust) */
  caCert: string;
  /** PEM serving certificate signed by the CA, and its key */
  cert: string;
  key: string;
}

/** the key of the CA in each pool's credential Secret, mounted beside `token` */
export const CA_KEY = 'ca.crt';

export function isLoopbackAddress(address: string): boolean {
  const host = address.startsWith('[')
    ? address.slice(1, address.indexOf(']'))
    : address.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The data plane's channel credentials: TLS against the operator's CA, or plaintext on loopback only. */
export function clientCredentials(address: string, ca: string | null): grpc.ChannelCredentials {
  if (ca !== null) return grpc.credentials.createSsl(Buffer.from(ca));
  if (isLoopbackAddress(address)) return grpc.credentials.createInsecure();
  throw Object.assign(
    new Error(
      `BH_ERR_CONFIG_STREAM_INSECURE: --control-plane ${address} is not a loopback address and no CA was given ` +
        `(--control-plane-ca, or ca.crt beside the credential file): the pool token is never sent in clear`,
    ),
    { code: 'BH_ERR_CONFIG_STREAM_INSECURE' },
  );
}

export function serverCredentials(tls: StreamTls | null): grpc.ServerCredentials {
  if (tls === null) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    null,
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    false,
  );
}
