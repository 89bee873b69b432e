// The operator's identity and least-privilege permissions, split by scope (docs/RBAC.md):
//
// - ClusterRole bulkhead-operator, bound cluster-wide: read the three kinds and write only their
//   status; read Services, EndpointSlices and Namespaces (the compiler's inputs) and the workload
//   kinds it owns (its informers watch them cluster-wide by label); create events; patch the caBundle
//   of its own ValidatingWebhookConfiguration (resourceNames pins it). No write to any workload, no
//   Secret at all, in any namespace.
// - ClusterRole bulkhead-operator-pool, bound by a RoleBinding in each pool namespace only: create,
//   update and delete the objects the synthesizer makes for a pool (ServiceAccount, ConfigMap,
//   Services, Deployment/DaemonSet, HPA, PDB) and the pool's credential Secret. A pool in a namespace
//   without that RoleBinding is refused by the API server (403), reported on the pool as an Event.
//   This is the per-namespace grant multi-tenant operators use (Prometheus Operator, Strimzi).
// - Role in bulkhead-system: leader-election Leases and the operator's own Secrets (webhook
//   certificate, config-stream master key).
// It never deletes or edits users' IngressPools, RouteSplits or RateLimitPolicies.

import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { LABELS, NAMESPACE, OPERATOR, WEBHOOK_CONFIG } from './names.ts';

const WRITE = ['create', 'delete', 'get', 'patch', 'update'];
const READ = ['get', 'list', 'watch'];
export const POOL_ROLE = `${OPERATOR}-pool`;

export const OPERATOR_RULES = [
  {
    apiGroups: ['bulkhead.dev'],
    resources: ['ingresspools', 'ratelimitpolicies', 'routesplits'],
    verbs: READ,
  },
  {
    apiGroups: ['bulkhead.dev'],
    resources: ['ingresspools/status', 'ratelimitpolicies/status', 'routesplits/status'],
    verbs: ['patch', 'update'],
  },
  { apiGroups: [''], resources: ['namespaces'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  // Services are route backends; the others are the owned kinds the informers watch by label
  { apiGroups: [''], resources: ['configmaps', 'serviceaccounts', 'services'], verbs: READ },
  { apiGroups: ['apps'], resources: ['daemonsets', 'deployments'], verbs: READ },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: READ },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: READ },
  // create a new event; patch is how an event recorder bumps the count of a repeated one
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['validatingwebhookconfigurations'],
    resourceNames: [WEBHOOK_CONFIG],
    verbs: ['get', 'patch', 'update'],
  },
];

/** bound per pool namespace: the objects the synthesizer makes for a pool, and its credential Secret */
export const POOL_RULES = [
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'serviceaccounts', 'services'], verbs: WRITE },
  { apiGroups: ['apps'], resources: ['daemonsets', 'deployments'], verbs: WRITE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: WRITE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: WRITE },
];

export const LEADER_ELECTION_RULES = [
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['create', 'get', 'list', 'patch', 'update', 'watch'],
  },
  // the webhook certificate and the config-stream master key live in the operator's namespace
  { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'patch', 'update'] },
];

/** The RoleBinding that lets the operator manage pools in `namespace` (one per pool namespace). */
export function poolRoleBinding(namespace: string): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: POOL_ROLE, namespace, labels: LABELS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: POOL_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: OPERATOR, namespace: NAMESPACE }],
  };
}

export interface OperatorRbacProps {
  /** namespaces where IngressPools live: each gets a RoleBinding to the pool ClusterRole */
  readonly poolNamespaces?: readonly string[];
}

export class OperatorRbac extends Construct {
  constructor(scope: Construct, id: string, props: OperatorRbacProps = {}) {
    super(scope, id);
    const metadata = (namespaced: boolean) => ({
      name: OPERATOR,
      labels: LABELS,
      ...(namespaced ? { namespace: NAMESPACE } : {}),
    });
    const subjects = [{ kind: 'ServiceAccount', name: OPERATOR, namespace: NAMESPACE }];
    const roleRef = (kind: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name: OPERATOR });

    new ApiObject(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: metadata(true),
    });
    new ApiObject(this, 'ClusterRole', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: metadata(false),
      rules: OPERATOR_RULES,
    });
    new ApiObject(this, 'PoolClusterRole', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: POOL_ROLE, labels: LABELS },
      rules: POOL_RULES,
    });
    new ApiObject(this, 'ClusterRoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: metadata(false),
      roleRef: roleRef('ClusterRole'),
      subjects,
    });
    new ApiObject(this, 'Role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: metadata(true),
      rules: LEADER_ELECTION_RULES,
    });
    new ApiObject(this, 'RoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: metadata(true),
      roleRef: roleRef('Role'),
      subjects,
    });
    for (const ns of props.poolNamespaces ?? [])
      new ApiObject(this, `PoolRoleBinding-${ns}`, poolRoleBinding(ns) as never);
  }
}
