// The webhook Service (443 → the pods' webhook port; the API server dials it by its .svc name,
// which the serving certificate names) and the metrics Service Prometheus scrapes.

import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { LABELS, METRICS_PORT, METRICS_SERVICE, NAMESPACE, SELECTOR, WEBHOOK_SERVICE } from './names.ts';

export class OperatorServices extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const service = (
      name: string,
      port: number,
      targetPort: string,
      extraLabels: Record<string, string> = {},
    ) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NAMESPACE, labels: { ...LABELS, ...extraLabels } },
      spec: {
        type: 'ClusterIP',
        selector: SELECTOR,
        ports: [{ name: targetPort, port, targetPort, protocol: 'TCP' }],
      },
    });
    new ApiObject(this, 'Webhook', service(WEBHOOK_SERVICE, 443, 'webhook'));
    new ApiObject(
      this,
      'Metrics',
      service(METRICS_SERVICE, METRICS_PORT, 'metrics', { 'bulkhead.dev/scrape': 'true' }),
    );
  }
}
