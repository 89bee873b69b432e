// The operator Deployment: two replicas (one leads the controller through a Lease; both serve the
// webhook and metrics), spread over nodes and zones, restricted Pod Security, probes on the
// metrics port (never the webhook port, so a slow admission cannot fail a probe).

import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import {
  IMAGE,
  LABELS,
  METRICS_PORT,
  NAMESPACE,
  OPERATOR,
  SELECTOR,
  WEBHOOK_CERT_DIR,
  WEBHOOK_CONFIG,
  WEBHOOK_PORT,
  WEBHOOK_SERVICE,
  WEBHOOK_TLS_SECRET,
  CONFIG_STREAM_PORT,
  CONFIG_STREAM_SERVICE,
} from './names.ts';

export interface OperatorDeploymentProps {
  /** @default 2 */
  readonly replicas?: number;
  /** @default IMAGE from src/version.ts (ghcr.io/bulkhead-dev/bulkhead:<package.json version>) */
  readonly image?: string;
  /** serve the validating admission webhook @default true */
  readonly webhook?: boolean;
  /** the data planes' config-stream port @default CONFIG_STREAM_PORT */
  readonly configStreamPort?: number;
  /** the operator's --log-level @default info */
  readonly logLevel?: string;
  /** the operator container's resources @default requests 100m/256Mi, limits 1/1Gi */
  readonly resources?: unknown;
}

/** The operator's command line; the webhook flags tell it where its certificate lives (see README). */
export function operatorArgs(props: OperatorDeploymentProps = {}): string[] {
  const port = props.configStreamPort ?? CONFIG_STREAM_PORT;
  const webhook = [
    '--webhook-addr',
    `:${WEBHOOK_PORT}`,
    '--webhook-cert-dir',
    WEBHOOK_CERT_DIR,
    '--webhook-secret',
    WEBHOOK_TLS_SECRET,
    '--webhook-service',
    WEBHOOK_SERVICE,
    '--webhook-config',
    WEBHOOK_CONFIG,
  ];
  return [
    'operator',
    '--leader-elect',
    '--metrics-addr',
    `:${METRICS_PORT}`,
    ...(props.webhook === false ? [] : webhook),
    '--config-stream-addr',
    `:${port}`,
    '--control-plane-address',
    `${CONFIG_STREAM_SERVICE}.${NAMESPACE}.svc:${port}`,
    '--log-level',
    props.logLevel ?? 'info',
  ];
}

export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { cpu: '1', memory: '1Gi' },
};

export class OperatorDeployment extends Construct {
  constructor(scope: Construct, id: string, props: OperatorDeploymentProps = {}) {
    super(scope, id);
    const replicas = props.replicas ?? 2;
    const webhook = props.webhook !== false;
    if (!Number.isInteger(replicas) || replicas < 1)
      throw new Error(`BH_ERR_INSTALL: replicas must be a positive integer (got ${replicas})`);
    const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
      httpGet: { path, port: 'metrics' },
      periodSeconds,
      timeoutSeconds: 2,
      failureThreshold,
    });

    new ApiObject(this, 'Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: OPERATOR, namespace: NAMESPACE, labels: LABELS },
      spec: {
        replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: SELECTOR },
        // a new replica must be ready before an old one goes: the webhook always has a server
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels: LABELS },
          spec: {
            serviceAccountName: OPERATOR,
            automountServiceAccountToken: true,
            terminationGracePeriodSeconds: 30,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              fsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'operator',
                image: props.image ?? IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args: operatorArgs(props),
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  // the image pools run when their spec.deployment.image is empty: the operator's own
                  { name: 'BULKHEAD_IMAGE', value: props.image ?? IMAGE },
                ],
                ports: [
                  { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
                  ...(webhook ? [{ name: 'webhook', containerPort: WEBHOOK_PORT, protocol: 'TCP' }] : []),
                  {
                    name: 'config-stream',
                    containerPort: props.configStreamPort ?? CONFIG_STREAM_PORT,
                    protocol: 'TCP',
                  },
                ],
                startupProbe: probe('/healthz', 2, 30),
                livenessProbe: probe('/healthz', 10, 3),
                readinessProbe: probe('/readyz', 5, 2),
                resources: props.resources ?? DEFAULT_RESOURCES,
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [
                  ...(webhook ? [{ name: 'webhook-tls', mountPath: WEBHOOK_CERT_DIR, readOnly: true }] : []),
                  // openssl writes its scratch files here when the operator makes the certificate
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              // optional: on the very first start the Secret does not exist yet; the operator makes it
              ...(webhook
                ? [{ name: 'webhook-tls', secret: { secretName: WEBHOOK_TLS_SECRET, optional: true } }]
                : []),
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ],
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: {
                      labelSelector: { matchLabels: SELECTOR },
                      topologyKey: 'kubernetes.io/hostname',
                    },
                  },
                ],
              },
            },
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'topology.kubernetes.io/zone',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: SELECTOR },
              },
            ],
          },
        },
      },
    });

    new ApiObject(this, 'DisruptionBudget', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: OPERATOR, namespace: NAMESPACE, labels: LABELS },
      spec: { maxUnavailable: 1, selector: { matchLabels: SELECTOR } },
    });
  }
}
