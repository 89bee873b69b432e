// Names, labels, ports and the image of the operator's own install: one place, so the RBAC
// subjects, Service selectors, webhook Service and Deployment always agree.

export const NAMESPACE = 'bulkhead-system';
export const OPERATOR = 'bulkhead-operator';
export { IMAGE, VERSION } from '../src/version.ts';
import { VERSION } from '../src/version.ts';

export const METRICS_PORT = 8081;
export const WEBHOOK_PORT = 9443;
/** the data planes' config stream (gRPC, h2c); only the leader accepts streams */
export const CONFIG_STREAM_PORT = 18000;
export const CONFIG_STREAM_SERVICE = 'bulkhead-config';

export const WEBHOOK_SERVICE = 'bulkhead-webhook';
export const METRICS_SERVICE = 'bulkhead-operator-metrics';
export const WEBHOOK_CONFIG = 'bulkhead';
/** kubernetes.io/tls Secret (plus ca.crt) the operator creates at first start and mounts afterwards */
export const WEBHOOK_TLS_SECRET = 'bulkhead-webhook-tls';
export const WEBHOOK_CERT_DIR = '/etc/bulkhead/webhook-tls';

export const PART_OF = { 'app.kubernetes.io/part-of': 'bulkhead' };
export const SELECTOR = { 'app.kubernetes.io/name': OPERATOR };
export const LABELS = {
  ...SELECTOR,
  ...PART_OF,
  'app.kubernetes.io/component': 'operator',
  'app.kubernetes.io/version': VERSION,
};
