// The Bulkhead operator: what other parts of the project (CLI, admission webhook, config stream)
// import. Everything else in this folder is internal.

export { startOperator, loadKubeConfig } from './operator.ts';
export type { OperatorOptions, OperatorHandle, OperatorContext, ExtraServer } from './operator.ts';
export type { ProgrammedVerdict } from './status-writer.ts';
export { OperatorReason } from './status-writer.ts';
export { KubeRest, KubeApiError, BH_ERR_KUBE_API } from './kube-rest.ts';
export type { KubeObject } from './kube-rest.ts';
export { RESOURCES, OWNED_KINDS } from './api-resources.ts';
export { FIELD_MANAGER, ANNOTATION_APPLIED_HASH } from './reconcile.ts';
export { WorkQueue } from './work-queue.ts';
