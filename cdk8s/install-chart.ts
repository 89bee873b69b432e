// Everything `kubectl apply -f dist/install.yaml` installs. Names are explicit (no cdk8s name
// hashes) and no chart namespace is set: cluster-scoped objects must not get one.

import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { BulkheadCrds } from './crds.ts';
import { LABELS, NAMESPACE } from './names.ts';
import { OperatorDeployment, type OperatorDeploymentProps } from './operator-deployment.ts';
import { OperatorRbac, type OperatorRbacProps } from './rbac.ts';
import { OperatorServices } from './services.ts';
import { WebhookRegistration } from './webhook-config.ts';

export type InstallChartProps = OperatorDeploymentProps & OperatorRbacProps;

export class InstallChart extends Chart {
  constructor(scope: Construct, id: string, props: InstallChartProps = {}) {
    super(scope, id, { disableResourceNameHashes: true });
    new ApiObject(this, 'Namespace', {
      apiVersion: 'v1',
      kind: 'Namespace',
      // restricted Pod Security enforced on the operator's own namespace
      metadata: {
        name: NAMESPACE,
        labels: { ...LABELS, 'pod-security.kubernetes.io/enforce': 'restricted' },
      },
    });
    new BulkheadCrds(this, 'Crds');
    new OperatorRbac(this, 'Rbac', props);
    new OperatorServices(this, 'Services', props);
    new OperatorDeployment(this, 'Operator', props);
    if (props.webhook !== false) new WebhookRegistration(this, 'Webhook');
  }
}
