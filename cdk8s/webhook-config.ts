// The ValidatingWebhookConfiguration, from the same builder the tests register against a real
// API server. It ships without a caBundle: the operator fills it in at start-up (README.md,
// "Webhook certificate"); until then, and whenever the operator is down, failurePolicy Ignore
// lets every write through to the CRD schema + CEL and the compiler's own checks.

import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { buildValidatingWebhookConfiguration } from '../src/operator/webhook/config.ts';
import { LABELS, NAMESPACE, WEBHOOK_CONFIG, WEBHOOK_SERVICE } from './names.ts';

export class WebhookRegistration extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cfg = buildValidatingWebhookConfiguration({
      name: WEBHOOK_CONFIG,
      service: { namespace: NAMESPACE, name: WEBHOOK_SERVICE, port: 443 },
      labels: LABELS,
    });
    new ApiObject(this, 'Configuration', cfg);
  }
}
