// Why an upstream attempt failed, and how client errors map to it. Kept apart from attempt.ts and the
// two attempt kinds so that they all import it without an import cycle.

/** why an attempt failed; indexes the exchange's retry-condition and error tables */
export const Fail = { connect: 1, connectTimeout: 2, reset: 3, refused: 4, timeout: 5, protocol: 6 } as const;
export type Fail = (typeof Fail)[keyof typeof Fail];

/**
 * A socket or session error by its code: the system's (ECONNREFUSED, ...), llhttp's (HPE_*), and the
 * codes the upstream code gives its own timeouts (UND_ERR_CONNECT_TIMEOUT, UND_ERR_HEADERS_TIMEOUT,
 * kept from the undici era so that logs and tests read the same).
 */
export function classifyUpstreamError(err: unknown): Fail {
  const code = (err as { code?: string } | null)?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return Fail.connect;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return Fail.connectTimeout;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return Fail.timeout;
    default:
      return code.startsWith('HPE_') || code === 'UND_ERR_INFO' ? Fail.protocol : Fail.reset;
  }
}
