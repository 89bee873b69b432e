// Writes dist/install.yaml from the cdk8s app in cdk8s/. Run after changing cdk8s/ or src/api:
// `node --import tsx scripts/gen-install.ts`. test/apiserver/install.test.ts fails when it is stale.

import { mkdirSync, writeFileSync } from 'node:fs';
import { installYaml } from '../cdk8s/main.ts';

export const INSTALL_PATH = new URL('../dist/install.yaml', import.meta.url).pathname;

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  mkdirSync(new URL('../dist/', import.meta.url).pathname, { recursive: true });
  writeFileSync(INSTALL_PATH, installYaml());
  console.log(`wrote ${INSTALL_PATH}`);
}
