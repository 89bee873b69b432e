// Backend resolution: a RouteSplit backend (Service name + port) becomes a cluster with a protocol
// and the ready endpoints of that Service's EndpointSlices, sorted for deterministic snapshots.

import type { IngressPoolSpec } from '../api/ingresspool.ts';
import type { BackendProtocol, ClusterIR, EndpointIR } from '../ir/snapshot.ts';
import { durationMs } from './duration.ts';
import type { EndpointSlice, Service, ServicePort } from './resources.ts';
import { keyOf, nsOf } from './resources.ts';

export class ServiceIndex {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice[]>();

  constructor(services: Service[], slices: EndpointSlice[]) {
    for (const s of services) this.services.set(keyOf(s), s);
    for (const sl of slices) {
      const svc = sl.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      const key = `${nsOf(sl)}/${svc}`;
      const list = this.slices.get(key);
      if (list) list.push(sl);
      else this.slices.set(key, [sl]);
    }
  }

  private sorted = false;

  service(namespace: string, name: string): Service | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  /** Ready endpoints for one Service port, matched to slice ports by port name. */
  endpoints(namespace: string, svc: Service, port: ServicePort): EndpointIR[] {
    if (!this.sorted) {
      // an address in two slices takes its zone from the first by name, whatever the input order
      for (const list of this.slices.values())
        list.sort((a, b) =>
          a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
        );
      this.sorted = true;
    }
    const seen = new Map<string, EndpointIR>();
    for (const slice of this.slices.get(`${namespace}/${svc.metadata.name}`) ?? []) {
      if (slice.addressType === 'FQDN') continue;
      const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
      if (!sp) continue; // this slice does not carry the Service port (matched by name, as kube-proxy does)
      // a nil port means "all ports": only a numeric targetPort can say which one
      const target = sp.port ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port);
      if (!target) continue;
      for (const ep of slice.endpoints ?? []) {
        // nil `ready` means ready (EndpointSlice API); terminating endpoints report ready=false.
        if (ep.conditions?.ready === false) continue;
        for (const address of ep.addresses ?? []) {
          const key = `${address}|${target}`;
          if (!seen.has(key)) seen.set(key, { address, port: target, zone: ep.zone ?? null }); // sorted keys
        }
      }
    }
    return [...seen.values()].sort(compareEndpoints);
  }
}

function compareEndpoints(a: EndpointIR, b: EndpointIR): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}

const H2C_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'h2c']);

export function protocolFor(requested: 'Auto' | 'HTTP1' | 'H2C', port: ServicePort): BackendProtocol {
  if (requested !== 'Auto') return requested;
  return port.appProtocol && H2C_APP_PROTOCOLS.has(port.appProtocol.toLowerCase()) ? 'H2C' : 'HTTP1';
}

/** `<ns>/<svc>:<port>`, with a `~h2c`/`~http1` suffix only when a route overrides the Service's own protocol. */
export function clusterName(
  namespace: string,
  svc: string,
  port: ServicePort,
  protocol: BackendProtocol,
): string {
  const base = `${namespace}/${svc}:${port.port}`;
  return protocol === protocolFor('Auto', port) ? base : `${base}~${protocol.toLowerCase()}`;
}

export function buildCluster(
  name: string,
  namespace: string,
  svc: Service,
  port: ServicePort,
  protocol: BackendProtocol,
  endpoints: EndpointIR[],
  pool: IngressPoolSpec,
): ClusterIR {
  const lb = pool.loadBalancer!;
  const hc = pool.healthCheck!;
  const ch = lb.consistentHash ?? { header: '', cookie: '', clientIP: false };
  // keys in sorted order: JSON.stringify of the IR is its canonical form (see canonical.ts)
  return {
    endpoints,
    healthCheck: {
      active: hc.active
        ? {
            expectedStatuses: [...new Set(hc.active.expectedStatuses ?? [200])].sort((a, b) => a - b),
            // the gRPC health protocol needs HTTP/2; HTTP/1.1 backends of the pool keep the path check
            grpc: hc.active.grpc && protocol === 'H2C' ? { service: hc.active.grpc.service ?? '' } : null,
            healthyThreshold: hc.active.healthyThreshold,
            intervalMs: durationMs(hc.active.interval),
            path: hc.active.path,
            timeoutMs: durationMs(hc.active.timeout),
            unhealthyThreshold: hc.active.unhealthyThreshold,
          }
        : null,
      passive: hc.passive
        ? {
            baseEjectionTimeMs: durationMs(hc.passive.baseEjectionTime),
            consecutiveErrors: hc.passive.consecutiveErrors,
            maxEjectionPercent: hc.passive.maxEjectionPercent,
          }
        : null,
    },
    loadBalancer: {
      algorithm: lb.algorithm,
      consistentHash: {
        clientIP: ch.clientIP ?? false,
        cookie: ch.cookie || null,
        header: ch.header ? ch.header.toLowerCase() : null,
      },
    },
    name,
    port: port.port,
    protocol,
    service: { name: svc.metadata.name, namespace },
    tls: null,
  };
}
