// Helpers for the synthesizer's unit tests: a valid base PoolInfra (the default golden case) to
// vary one field at a time, and accessors into the synthesized objects.

import * as assert from 'uvu/assert';
import type { PoolInfra } from '../../src/ir/infra.ts';
import { synthesize } from '../../src/synth/index.ts';
import type { KubeObject, SynthOptions } from '../../src/synth/index.ts';
import { loadCase } from './cases.ts';

const BASE = loadCase('default-deployment').infra;

/** A fresh copy of the default pool, changed by `edit`. */
export function poolInfra(edit: (p: PoolInfra) => void = () => {}): PoolInfra {
  const p = structuredClone(BASE);
  edit(p);
  return p;
}

export function synth(infra: PoolInfra, opts?: SynthOptions): KubeObject[] {
  return synthesize(infra, opts);
}

export function only(objects: KubeObject[], kind: string, name?: string): any {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.is(found.length, 1, `expected exactly one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`);
  return found[0];
}

export function workload(objects: KubeObject[]): any {
  const found = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
  assert.is(found.length, 1, 'exactly one workload');
  return found[0];
}

export function podSpec(objects: KubeObject[]): any {
  return workload(objects).spec.template.spec;
}

export function dataplane(objects: KubeObject[]): any {
  const c = podSpec(objects).containers.find((x: any) => x.name === 'dataplane');
  assert.ok(c, 'a container named dataplane');
  return c;
}
