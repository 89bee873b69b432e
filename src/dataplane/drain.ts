// Graceful drain (SIGTERM): /readyz fails at once (the `draining` flag), HTTP/1.1 responses carry
// `Connection: close` and idle keep-alive connections close, h2 sessions get GOAWAY and finish their
// open streams, in-flight requests complete, WebSocket tunnels get close code 1001 after
// `websocket.drainPeriodMs`. The port keeps accepting meanwhile (late clients are served, with
// Connection: close) and stops once nothing is in flight or at the grace limit, whichever comes
// first; the caller then closes what is left.

import type { ProxyRuntime } from './context.ts';
import type { Listener } from './listener.ts';

const POLL_MS = 50;

export interface DrainOptions {
  /** WebSocket tunnels stay open this long before they get 1001 */
  wsDrainMs: number;
  /** hard limit for the whole drain */
  graceMs: number;
}

export async function drainDataplane(
  rt: ProxyRuntime,
  listener: Listener,
  opts: DrainOptions,
): Promise<{ idle: boolean }> {
  rt.draining = true;
  const start = Date.now();
  let wsClosed = rt.tunnels.size === 0;
  let idle = false;
  for (;;) {
    const elapsed = Date.now() - start;
    if (!wsClosed && elapsed >= opts.wsDrainMs) {
      rt.tunnels.closeAll(true);
      wsClosed = true;
    }
    listener.drainStep();
    if (rt.overload.active === 0 && rt.tunnels.size === 0) {
      idle = true;
      break;
    }
    if (elapsed >= opts.graceMs) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await listener.stopAccepting();
  return { idle };
}
