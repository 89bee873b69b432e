// The verified client certificate of an HTTPS connection, as the one header the backend gets:
//   x-forwarded-client-cert: Hash=<sha256 hex>;Subject="<subject>";DNS=<san>;URI=<san>;...
// (Envoy's XFCC element syntax: Hash is the SHA-256 of the certificate's DER bytes in lower-case hex,
// Subject its subject with attributes joined by `,`, then one DNS=/URI= per SAN.) The value is built
// once per connection at the handshake and read per request; an inbound copy of the header is
// always removed (headers.ts), so a client can never claim an identity it did not prove.

import type tls from 'node:tls';
import type { RequestContext } from './request-context.ts';

export const CLIENT_CERT_HEADER = 'x-forwarded-client-cert';
const kClientCert = Symbol('bulkhead.clientCert');

/**
 * At the handshake of a listener with clientAuth: remember the verified identity. false when the
 * client presented a certificate that does not verify (Optional mode lets only "no certificate" in).
 */
export function rememberClientCert(socket: tls.TLSSocket): boolean {
  const x = socket.getPeerX509Certificate();
  if (x === undefined) return true;
  if (!socket.authorized) return false;
  (socket as unknown as Record<symbol, string>)[kClientCert] = xfccOf(
    x.fingerprint256,
    x.subject,
    x.subjectAltName ?? '',
  );
  return true;
}

export function xfccOf(fingerprint256: string, subject: string, subjectAltName: string): string {
  let out = `Hash=${fingerprint256.replace(/:/g, '').toLowerCase()};Subject="${quote(subject.split('\n').join(','))}"`;
  for (const part of subjectAltName.split(', ')) {
    if (part.startsWith('DNS:')) out += `;DNS=${part.slice(4)}`;
    else if (part.startsWith('URI:')) out += `;URI=${part.slice(4)}`;
  }
  return out;
}

function quote(s: string): string {
  return s.replace(/[\\"]/g, (c) => '\\' + c);
}

/** The identity of the request's connection, or null (plaintext, no certificate, no clientAuth). */
export function clientCertOf(rc: RequestContext): string | null {
  if (rc.res === null) return h2ConnOf(rc).cert;
  const socket = socketOf(rc);
  return socket === null ? null : clientCertOfSocket(socket);
}

/** The identity remembered at the handshake of this connection, or null. */
export function clientCertOfSocket(socket: object): string | null {
  return (socket as Record<symbol, string | undefined>)[kClientCert] ?? null;
}

/** Whether the request arrived on the HTTPS listener. */
export function isTlsRequest(rc: RequestContext): boolean {
  if (rc.res === null) return h2ConnOf(rc).tls;
  return (socketOf(rc) as { encrypted?: boolean } | null)?.encrypted === true;
}

// An h2 session's `socket` is a Proxy whose every property read goes through a trap: what the
// request path needs from it is read once per session and kept on the session.
interface H2Conn {
  readonly tls: boolean;
  readonly cert: string | null;
}
const NO_CONN: H2Conn = { tls: false, cert: null };
const kH2Conn = Symbol('bulkhead.h2Conn');

function h2ConnOf(rc: RequestContext): H2Conn {
  const session = rc.stream?.session as unknown as Record<symbol, H2Conn | undefined> | undefined;
  if (session === undefined) return NO_CONN;
  let c = session[kH2Conn];
  if (c === undefined) {
    const socket = socketOf(rc) as { encrypted?: boolean } | null;
    // a session that already let go of its socket is not remembered: nothing is known about it
    if (socket === null) return NO_CONN;
    c = { tls: socket.encrypted === true, cert: clientCertOfSocket(socket) };
    session[kH2Conn] = c;
  }
  return c;
}

function socketOf(rc: RequestContext): object | null {
  if (rc.res !== null)
    return (
      (rc.res as { sink?: { socket?: object } }).sink?.socket ??
      (rc.res as { socket?: object }).socket ??
      null
    );
  try {
    // an h2 session's `socket` is a proxy that throws once the session let go of its socket
    return rc.stream?.session?.socket ?? null;
  } catch {
    return null;
  }
}
