// The three kinds of group bulkhead.dev/v1alpha1: names, schemas, printer columns, and the
// object types the rest of the code uses.

import type { TSchema } from '@sinclair/typebox';
import { IngressPoolSpec, IngressPoolStatus } from './ingresspool.ts';
import { RouteSplitSpec, RouteSplitStatus } from './routesplit.ts';
import { RateLimitPolicySpec, RateLimitPolicyStatus } from './ratelimitpolicy.ts';

export const GROUP = 'bulkhead.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Resource<K extends string, S, St> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  status?: St;
}

export type IngressPool = Resource<'IngressPool', IngressPoolSpec, IngressPoolStatus>;
export type RouteSplit = Resource<'RouteSplit', RouteSplitSpec, RouteSplitStatus>;
export type RateLimitPolicy = Resource<'RateLimitPolicy', RateLimitPolicySpec, RateLimitPolicyStatus>;
export type BulkheadObject = IngressPool | RouteSplit | RateLimitPolicy;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindInfo {
  kind: BulkheadObject['kind'];
  plural: string;
  singular: string;
  shortNames: string[];
  spec: TSchema;
  status: TSchema;
  description: string;
  columns: PrinterColumn[];
  /** metadata.name limit when names of derived objects must stay within 63 characters */
  maxNameLength?: number;
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const cond = (type: string, base = '.status') => `${base}.conditions[?(@.type=="${type}")].status`;
const reason = (type: string) => `.status.conditions[?(@.type=="${type}")].reason`;

export const KINDS: readonly KindInfo[] = [
  {
    kind: 'IngressPool',
    plural: 'ingresspools',
    singular: 'ingresspool',
    shortNames: ['ipool'],
    spec: IngressPoolSpec,
    status: IngressPoolStatus,
    description: 'An isolated proxy deployment for one product line, and the namespaces allowed to claim it.',
    // Service names are DNS labels (63): bulkhead-<pool>-admin leaves 63 - 15 = 48 for the pool name
    maxNameLength: 48,
    columns: [
      { name: 'Product Line', type: 'string', jsonPath: '.spec.productLine' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
      { name: 'Programmed', type: 'string', jsonPath: cond('Programmed') },
      { name: 'Address', type: 'string', jsonPath: '.status.addresses[0].value' },
      { name: 'Routes', type: 'integer', jsonPath: '.status.attachedRoutes', priority: 1 },
      { name: 'Config', type: 'string', jsonPath: '.status.configVersion', priority: 1 },
      age,
    ],
  },
  {
    kind: 'RouteSplit',
    plural: 'routesplits',
    singular: 'routesplit',
    shortNames: ['rsplit'],
    spec: RouteSplitSpec,
    status: RouteSplitStatus,
    description: "A team's routes attached to a pool: hosts, matches, weighted and canary backends.",
    columns: [
      { name: 'Pool', type: 'string', jsonPath: '.spec.poolRef.name' },
      { name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' },
      { name: 'Accepted', type: 'string', jsonPath: cond('Accepted') },
      { name: 'Reason', type: 'string', jsonPath: reason('Accepted') },
      { name: 'Resolved', type: 'string', jsonPath: cond('ResolvedRefs'), priority: 1 },
      age,
    ],
  },
  {
    kind: 'RateLimitPolicy',
    plural: 'ratelimitpolicies',
    singular: 'ratelimitpolicy',
    shortNames: ['rlp'],
    spec: RateLimitPolicySpec,
    status: RateLimitPolicyStatus,
    description: 'Request limits on a route or a pool, per replica or shared through Redis.',
    columns: [
      { name: 'Target Kind', type: 'string', jsonPath: '.spec.targetRef.kind' },
      { name: 'Target', type: 'string', jsonPath: '.spec.targetRef.name' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
      { name: 'Accepted', type: 'string', jsonPath: cond('Accepted') },
      { name: 'Reason', type: 'string', jsonPath: reason('Accepted') },
      age,
    ],
  },
];

export const KIND_BY_NAME: ReadonlyMap<string, KindInfo> = new Map(KINDS.map((k) => [k.kind, k]));
