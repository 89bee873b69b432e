// The ValidatingWebhookConfiguration that sends the three kinds to the webhook.
//
// failurePolicy: Ignore, on purpose. The webhook only adds cross-object checks (host+path
// conflicts, pool claims, duplicate policies); the CRD schema and CEL rules still reject malformed
// objects when the operator is down, and the compiler rejects per object whatever slips through
// (status Accepted=False). With Fail, an operator outage or a rollout would block every GitOps
// sync of routes in the cluster, which is worse than a conflict the compiler reports anyway.

import { Buffer } from 'node:buffer';
import { GROUP, KINDS, VERSION } from '../../api/kinds.ts';

export const WEBHOOK_NAME = 'validate.bulkhead.dev';
export const WEBHOOK_PATH = '/validate';

export interface WebhookConfigOptions {
  /** metadata.name of the configuration; default `bulkhead` */
  name?: string;
  /** PEM of the CA that signed the serving certificate; omit when cert-manager's CA injector fills it */
  caBundlePem?: string;
  /** in-cluster Service, or `url` for a webhook outside the cluster (tests) */
  service?: { namespace: string; name: string; port?: number };
  url?: string;
  /** namespaces never sent to the webhook; kube-system always */
  excludeNamespaces?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function buildValidatingWebhookConfiguration(opts: WebhookConfigOptions): any {
  if (!!opts.service === !!opts.url)
    throw new Error('BH_ERR_WEBHOOK_CONFIG: give exactly one of service or url');
  const clientConfig: any = opts.url
    ? { url: opts.url }
    : {
        service: {
          namespace: opts.service!.namespace,
          name: opts.service!.name,
          path: WEBHOOK_PATH,
          port: opts.service!.port ?? 443,
        },
      };
  if (opts.caBundlePem) clientConfig.caBundle = Buffer.from(opts.caBundlePem).toString('base64');
  const excluded = [...new Set(['kube-system', ...(opts.excludeNamespaces ?? [])])].sort();
  const metadata: any = { name: opts.name ?? 'bulkhead' };
  if (opts.labels) metadata.labels = opts.labels;
  if (opts.annotations) metadata.annotations = opts.annotations;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata,
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1'],
        clientConfig,
        failurePolicy: 'Ignore',
        matchPolicy: 'Equivalent',
        sideEffects: 'None',
        timeoutSeconds: 5,
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excluded }],
        },
        rules: [
          {
            apiGroups: [GROUP],
            apiVersions: [VERSION],
            operations: ['CREATE', 'UPDATE'],
            // main resources only: the operator's status writes never pass through the webhook
            resources: KINDS.map((k) => k.plural),
            scope: 'Namespaced',
          },
        ],
      },
    ],
  };
}
