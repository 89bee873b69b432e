// The operator's identity and least-privilege permissions.
//
// ClusterRole: read the three kinds and write only their status; read Services, EndpointSlices and
// Namespaces (the compiler's inputs); manage exactly the workload kinds the synthesizer makes for
// each pool (in the pool's namespace, hence cluster-wide); events; and patch the caBundle of its
// own ValidatingWebhookConfiguration (resourceNames pins it). It never deletes or edits users'
// IngressPools, RouteSplits or RateLimitPolicies. Leader-election Leases only in bulkhead-system,
// via a Role.

import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { LABELS, NAMESPACE, OPERATOR, WEBHOOK_CONFIG } from './names.ts';

const MANAGE = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const READ = ['get', 'list', 'watch'];

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
  // Services are both read (route backends) and managed (each pool's own Services).
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'serviceaccounts', 'services'], verbs: MANAGE },
  { apiGroups: ['apps'], resources: ['daemonsets', 'deployments'], verbs: MANAGE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: MANAGE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: MANAGE },
  // create a new event; patch is how an event recorder bumps the count of a repeated one
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['validatingwebhookconfigurations'],
    resourceNames: [WEBHOOK_CONFIG],
    verbs: ['get', 'patch', 'update'],
  },
];

export const LEADER_ELECTION_RULES = [
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['create', 'get', 'list', 'patch', 'update', 'watch'],
  },
];

export class OperatorRbac extends Construct {
  constructor(scope: Construct, id: string) {
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
  }
}
