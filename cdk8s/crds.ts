// The three CustomResourceDefinitions, from the same generator as crds/ (src/api is the source).

import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { allCrds } from '../src/api/crd.ts';

export class BulkheadCrds extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    for (const crd of allCrds()) {
      const { apiVersion, kind, metadata, ...rest } = crd;
      new ApiObject(this, crd.metadata.name, { apiVersion, kind, metadata, ...rest });
    }
  }
}
