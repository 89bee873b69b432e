// HorizontalPodAutoscaler (autoscaling/v2) for Deployment pools with `spec.autoscaling`.
//
// Written with the typed L1 object (k8s.KubeHorizontalPodAutoscalerV2, a cdk8s ApiObject whose
// props the compiler checks) rather than cdk8s-plus' HorizontalPodAutoscaler, which derives
// policies of its own, while a gateway needs an exact, asymmetric behaviour: scale up
// at once when traffic arrives (a proxy at its CPU limit queues every request of the pool), scale
// down slowly so a short lull does not strip capacity the next burst needs.

import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import type { PoolInfra } from '../ir/infra.ts';
import type { PoolIdentity } from './identity.ts';
import { objectMetadata } from './identity.ts';

/** scale-up step: whichever is larger of doubling or +4 pods, every 15 s */
export const SCALE_UP_PERCENT = 100;
export const SCALE_UP_PODS = 4;
export const SCALE_UP_PERIOD_SECONDS = 15;
/** scale-down step: whichever is larger of 10 % or 1 pod, once a minute, after the stabilization */
export const SCALE_DOWN_PERCENT = 10;
export const SCALE_DOWN_PODS = 1;
export const SCALE_DOWN_PERIOD_SECONDS = 60;

export interface PoolAutoscalerProps {
  readonly identity: PoolIdentity;
  readonly autoscaling: NonNullable<PoolInfra['autoscaling']>;
}

export class PoolAutoscaler extends Construct {
  readonly apiObject: kplus.k8s.KubeHorizontalPodAutoscalerV2;

  constructor(scope: Construct, id: string, props: PoolAutoscalerProps) {
    super(scope, id);
    const { identity, autoscaling } = props;
    this.apiObject = new kplus.k8s.KubeHorizontalPodAutoscalerV2(this, 'Resource', {
      metadata: objectMetadata(identity, identity.baseName),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: identity.baseName },
        minReplicas: autoscaling.minReplicas,
        maxReplicas: autoscaling.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilizationPercentage },
            },
          },
        ],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Max',
            policies: [
              { type: 'Percent', value: SCALE_UP_PERCENT, periodSeconds: SCALE_UP_PERIOD_SECONDS },
              { type: 'Pods', value: SCALE_UP_PODS, periodSeconds: SCALE_UP_PERIOD_SECONDS },
            ],
          },
          scaleDown: {
            stabilizationWindowSeconds: autoscaling.scaleDownStabilizationSeconds,
            // Max of "10 %" and "1 pod": small pools still shrink, large ones by a tenth a minute.
            selectPolicy: 'Max',
            policies: [
              { type: 'Percent', value: SCALE_DOWN_PERCENT, periodSeconds: SCALE_DOWN_PERIOD_SECONDS },
              { type: 'Pods', value: SCALE_DOWN_PODS, periodSeconds: SCALE_DOWN_PERIOD_SECONDS },
            ],
          },
        },
      },
    });
  }
}
