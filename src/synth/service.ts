// The pool's Services: `bulkhead-<pool>` carries client traffic, `bulkhead-<pool>-admin` exposes
// the admin port (metrics, /config) inside the cluster only. The admin port is never on the
// traffic Service: a LoadBalancer would publish /config and /metrics to the internet.

import { Construct } from 'constructs';
import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { PoolInfra } from '../ir/infra.ts';
import type { PoolIdentity } from './identity.ts';
import { objectMetadata } from './identity.ts';

export const PORT_NAME_HTTP = 'http';
export const PORT_NAME_HTTPS = 'https';
export const PORT_NAME_ADMIN = 'admin';

export interface PoolServicesProps {
  readonly infra: PoolInfra;
  readonly identity: PoolIdentity;
}

interface PortSpec {
  name: string;
  port: number;
  appProtocol: string;
}

export class PoolServices extends Construct {
  readonly traffic: kplus.Service;
  readonly admin: kplus.Service;

  constructor(scope: Construct, id: string, props: PoolServicesProps) {
    super(scope, id);
    const { infra, identity } = props;
    // With hostNetwork the proxies already listen on every node's own address, which is how
    // external traffic is meant to arrive (DNS or an external balancer pointing at the nodes). A
    // NodePort/LoadBalancer Service would add a second, kube-proxy-NATed path with different
    // source-IP and health semantics, so the Service shrinks to ClusterIP: in-cluster clients and
    // service discovery keep working, nothing else is published.
    const type = infra.deployment.hostNetwork ? 'ClusterIP' : infra.service.type;
    const ports: PortSpec[] = [{ name: PORT_NAME_HTTP, port: infra.listener.port, appProtocol: 'http' }];
    if (infra.listener.tlsPort !== null) {
      ports.push({ name: PORT_NAME_HTTPS, port: infra.listener.tlsPort, appProtocol: 'https' });
    }

    this.traffic = new kplus.Service(this, 'Traffic', {
      metadata: objectMetadata(identity, identity.baseName, infra.service.annotations),
      type: serviceType(type),
    });
    bindPorts(this.traffic, ports, identity);
    const traffic = ApiObject.of(this.traffic);
    // cdk8s-plus always renders `externalIPs: []`; drop it so server-side apply does not claim a
    // field this operator has no opinion on.
    traffic.addJsonPatch(JsonPatch.remove('/spec/externalIPs'));
    if (type !== 'ClusterIP') {
      // Only meaningful (and only accepted) for Services reachable from outside the cluster.
      traffic.addJsonPatch(JsonPatch.add('/spec/externalTrafficPolicy', infra.service.externalTrafficPolicy));
    }

    this.admin = new kplus.Service(this, 'Admin', {
      metadata: objectMetadata(identity, identity.adminServiceName),
      type: kplus.ServiceType.CLUSTER_IP,
      // Headless: scrapers address pods individually anyway, so no virtual IP is spent on it.
      clusterIP: 'None',
    });
    bindPorts(
      this.admin,
      [{ name: PORT_NAME_ADMIN, port: infra.listener.adminPort, appProtocol: 'http' }],
      identity,
    );
    const admin = ApiObject.of(this.admin);
    admin.addJsonPatch(JsonPatch.remove('/spec/externalIPs'));
    // Metrics matter most while a pod fails readiness, which is exactly when it would otherwise
    // vanish from the endpoints.
    admin.addJsonPatch(JsonPatch.add('/spec/publishNotReadyAddresses', true));
  }
}

function bindPorts(svc: kplus.Service, ports: PortSpec[], identity: PoolIdentity): void {
  for (const [key, value] of Object.entries(identity.selectorLabels)) svc.selectLabel(key, value);
  for (const p of ports) {
    svc.bind(p.port, { name: p.name, targetPort: p.port, protocol: kplus.Protocol.TCP });
  }
  // cdk8s-plus' ServicePort has no appProtocol; it tells meshes and L7 load balancers what speaks
  // on the port, so it is patched in by index (ports are rendered in bind order).
  const api = ApiObject.of(svc);
  ports.forEach((p, i) => api.addJsonPatch(JsonPatch.add(`/spec/ports/${i}/appProtocol`, p.appProtocol)));
}

function serviceType(type: PoolInfra['service']['type']): kplus.ServiceType {
  switch (type) {
    case 'LoadBalancer':
      return kplus.ServiceType.LOAD_BALANCER;
    case 'NodePort':
      return kplus.ServiceType.NODE_PORT;
    case 'ClusterIP':
      return kplus.ServiceType.CLUSTER_IP;
  }
}
