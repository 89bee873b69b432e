// The answers the HTTP/1.1 engine makes on its own, before a request reaches the proxy: malformed,
// ambiguous or over-limit requests and timeouts. Each is a complete response, built once, always
// with `Connection: close`: after any of them the connection is closed, because the bytes that follow
// a request we could not frame cannot be trusted to start the next one.

import { STATUS_CODES } from 'node:http';

export interface Reject {
  readonly status: number;
  /** value of `x-bulkhead-reason`, as for the proxy's own errors */
  readonly reason: string;
  /** the whole response, head and body */
  readonly bytes: Buffer;
}

function def(status: number, reason: string, text: string): Reject {
  const body = text + '\n';
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-bulkhead-reason: ${reason}\r\nconnection: close\r\n\r\n`;
  return { status, reason, bytes: Buffer.from(head + body, 'latin1') };
}

export const Rejects = {
  malformed: def(400, 'malformed-request', 'malformed or ambiguous HTTP/1.1 request'),
  http09: def(400, 'http-0.9', 'HTTP/0.9 requests are not supported'),
  badTarget: def(400, 'invalid-request-target', 'the request target is not origin-form or absolute-form'),
  missingHost: def(400, 'missing-host', 'HTTP/1.1 requests need exactly one Host header'),
  duplicateHost: def(400, 'duplicate-host', 'more than one Host header'),
  invalidHost: def(400, 'invalid-host', 'the Host header is not a valid host[:port]'),
  hostMismatch: def(400, 'host-mismatch', 'the Host header differs from the absolute-form target authority'),
  upgradeWithBody: def(400, 'upgrade-with-body', 'protocol upgrades with a request body are not supported'),
  connect: def(405, 'connect-not-supported', 'CONNECT is not supported'),
  headerTimeout: def(408, 'request-header-timeout', 'the request headers took too long'),
  bodyTimeout: def(408, 'request-body-timeout', 'the request body arrived too slowly'),
  uriTooLong: def(414, 'uri-too-long', 'request URI too long'),
  expectation: def(417, 'expectation-failed', 'only Expect: 100-continue is supported'),
  headersTooLarge: def(431, 'headers-too-large', 'request header section too large'),
  tooManyHeaders: def(431, 'too-many-headers', 'too many request header fields'),
  version: def(505, 'http-version-not-supported', 'only HTTP/1.0 and HTTP/1.1 are served here'),
} as const;

/** The answer to an llhttp parse error. `lineSeen`: the request line was complete (else 414). */
export function rejectForParseError(code: string, reason: string, lineSeen: boolean): Reject {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return lineSeen ? Rejects.headersTooLarge : Rejects.uriTooLong;
    case 'HPE_INVALID_VERSION':
      // "GET / HTTP/1.2" is a version we do not serve; a bad line ending after it is malformed
      return reason === 'Invalid HTTP version' ? Rejects.version : Rejects.malformed;
    default:
      return Rejects.malformed;
  }
}
