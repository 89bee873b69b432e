// The pool's own ServiceAccount. The data plane never talks to the Kubernetes API (config arrives
// over the operator's gRPC stream, authenticated with the pool credential), so no token is
// mounted: a compromised proxy then holds no API credential at all.

import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import type { PoolIdentity } from './identity.ts';
import { objectMetadata } from './identity.ts';

export interface PoolServiceAccountProps {
  readonly identity: PoolIdentity;
}

export class PoolServiceAccount extends Construct {
  readonly serviceAccount: kplus.ServiceAccount;

  constructor(scope: Construct, id: string, props: PoolServiceAccountProps) {
    super(scope, id);
    this.serviceAccount = new kplus.ServiceAccount(this, 'Resource', {
      metadata: objectMetadata(props.identity, props.identity.baseName),
      // cdk8s-plus defaults this to false too; spelled out because it is a security property.
      automountToken: false,
    });
  }
}
