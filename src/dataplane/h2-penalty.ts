// The reconnect penalty behind the h2 guard (h2-guard.ts): when a session is closed for a flood,
// its client's address is remembered for PENALTY_MS, and the next h2 connection from that address
// is held (its bytes kept in order) until the penalty is over before the http2 server reads it. A
// rapid-reset attacker that reconnects at once is slowed to one connection per window; connections
// already open, and other addresses, are untouched. The table is bounded (expired entries go first).

import type http2 from 'node:http2';
import type { Socket } from 'node:net';

/**
 * A client whose session was closed for a flood waits this long before its next h2 connection from
 * the same address is read: the reconnect loop of a rapid-reset attacker slows to one connection per
 * window, while clients on open connections (and other addresses) are not touched.
 */
export const PENALTY_MS = 1000;
const MAX_PENALIZED = 10_000;
const penalized = new Map<string, number>();

export function penalize(address: string | undefined): void {
  if (address === undefined) return;
  const now = Date.now();
  if (penalized.size >= MAX_PENALIZED)
    for (const [a, until] of penalized)
      if (until <= now || penalized.size >= MAX_PENALIZED) penalized.delete(a);
  penalized.set(address, now + PENALTY_MS);
}

/** Hands a sniffed h2 connection to the server, after the address's penalty when it has one. */
export function admitH2Connection(server: http2.Http2Server, socket: Socket): void {
  const addr = socket.remoteAddress;
  const until = addr === undefined ? undefined : penalized.get(addr);
  const wait = until === undefined ? 0 : until - Date.now();
  if (wait <= 0) {
    if (until !== undefined) penalized.delete(addr!);
    server.emit('connection', socket);
    return;
  }
  // the sniffer resumes the socket after this returns: hold what arrives meanwhile, in order
  (socket as unknown as Record<symbol, Buffer[]>)[kHeld] = [];
  socket.on('data', holdChunk);
  setTimeout(emitLate, wait, server, socket);
}

const kHeld = Symbol('bulkhead.heldChunks');

function holdChunk(this: Socket, chunk: Buffer): void {
  (this as unknown as Record<symbol, Buffer[]>)[kHeld]!.push(chunk);
  this.pause();
}

// as the sniffer does: paused, the held bytes back in front, the server takes it, then resume
function emitLate(server: http2.Http2Server, socket: Socket): void {
  socket.off('data', holdChunk);
  if (socket.destroyed) return;
  socket.pause();
  const held = (socket as unknown as Record<symbol, Buffer[]>)[kHeld]!;
  for (let i = held.length - 1; i >= 0; i--) socket.unshift(held[i]!);
  server.emit('connection', socket);
  process.nextTick(resumeLate, socket);
}

function resumeLate(socket: Socket): void {
  socket.resume();
}
