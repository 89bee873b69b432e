// One upstream try of an Exchange. The two kinds (HTTP/1.1 on a pooled socket, h2c over a shared
// session) report to the exchange through the same four calls: onHead, onData, onEnd, onError.

import type { EndpointState } from './balancer/index.ts';
import type { Exchange } from './exchange.ts';
import { Http1Attempt } from './upstream-http1.ts';
import { H2Attempt } from './upstream-h2.ts';
import type { H2Endpoint } from './upstreams.ts';
import type { Http1Endpoint } from './upstream-pool.ts';

export interface Attempt {
  readonly ep: EndpointState;
  readonly started: number;
  /** stop this try (downstream gone, timeout, or discarded for a retry) */
  cancel(): void;
  /** continue after the downstream drained */
  resume(): void;
}

export function startAttempt(ex: Exchange, ep: EndpointState): void {
  const up = ex.rt.upstreams.get(ep, ex.cluster.h2, ex.ctx.connectMs, ex.cluster.tls);
  ex.cluster.balancer.onStart(ep);
  if (ex.cluster.h2) {
    const a = new H2Attempt(ex, ep, up as H2Endpoint);
    ex.attempt = a;
    a.start();
  } else {
    const a = new Http1Attempt(ex, ep);
    ex.attempt = a;
    a.start(up as Http1Endpoint);
  }
}
