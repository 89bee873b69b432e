// Graceful drain (SIGTERM): /readyz fails at once (the `draining` flag), the data port stops
// accepting, HTTP/1.1 responses carry `Connection: close` and idle keep-alive connections close, h2
// sessions get GOAWAY and finish their open streams, in-flight requests complete, WebSocket tunnels
// get close code 1001 after `websocket.drainPeriodMs`. Resolves when nothing is in flight or at the
// grace limit, whichever comes first; the caller then closes what is left.

import type { ProxyRuntime } from './context.ts';
import type { Listener } from './listener.ts';

const POLL_MS = 50;

export interface DrainOptions {
  /** WebSocket tunnels stay open this long before they get 1001 */
  wsDrainMs: number;
  /** hard limit for the whole drain */
  graceMs: number;
}

export async function drainDataplane(rt: ProxyRuntime, listener: Listener, opts: DrainOptions): Promise<{ idle: boolean }> {
  rt.draining = true;
  listener.drain();
  const start = Date.now();
  let wsClosed = rt.tunnels.size === 0;
  for (;;) {
    const elapsed = Date.now() - start;
    if (!wsClosed && elapsed >= opts.wsDrainMs) {
      rt.tunnels.closeAll(true);
      wsClosed = true;
    }
    listener.sweepIdle();
    if (rt.overload.active === 0 && rt.tunnels.size === 0 && listener.connections === 0) return { idle: true };
    if (rt.overload.active === 0 && rt.tunnels.size === 0 && wsClosed && elapsed >= POLL_MS * 4) {
      // requests done; what is left are connections that have nothing in flight
      return { idle: true };
    }
    if (elapsed >= opts.graceMs) return { idle: false };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
