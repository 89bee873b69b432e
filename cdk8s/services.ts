// The webhook Service (443 → the pods' webhook port; the API server dials it by its .svc name,
// which the serving certificate names), the data planes' config-stream Service, and the metrics
// Service Prometheus scrapes.

import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import {
  CONFIG_STREAM_PORT,
  CONFIG_STREAM_SERVICE,
  LABELS,
  METRICS_PORT,
  METRICS_SERVICE,
  NAMESPACE,
  SELECTOR,
  WEBHOOK_SERVICE,
} from './names.ts';

export interface OperatorServicesProps {
  /** @default true */
  readonly webhook?: boolean;
  /** @default CONFIG_STREAM_PORT */
  readonly configStreamPort?: number;
}

export class OperatorServices extends Construct {
  constructor(scope: Construct, id: string, props: OperatorServicesProps = {}) {
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
    if (props.webhook !== false) new ApiObject(this, 'Webhook', service(WEBHOOK_SERVICE, 443, 'webhook'));
    // data planes connect here; standbys refuse streams, so the jittered reconnects land on the leader
    new ApiObject(
      this,
      'ConfigStream',
      service(CONFIG_STREAM_SERVICE, props.configStreamPort ?? CONFIG_STREAM_PORT, 'config-stream'),
    );
    new ApiObject(
      this,
      'Metrics',
      service(METRICS_SERVICE, METRICS_PORT, 'metrics', { 'bulkhead.dev/scrape': 'true' }),
    );
  }
}
