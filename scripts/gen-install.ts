// Writes dist/install.yaml and the Helm chart dist/helm/bulkhead/ from the cdk8s app in cdk8s/. Run
// after changing cdk8s/ or src/api: `node --import tsx scripts/gen-install.ts`.
// test/apiserver/install.test.ts and test/apiserver/helm.test.ts fail when they are stale.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { helmChartFiles } from '../cdk8s/helm-chart.ts';
import { installYaml } from '../cdk8s/main.ts';

export const INSTALL_PATH = new URL('../dist/install.yaml', import.meta.url).pathname;
export const HELM_CHART_DIR = new URL('../dist/helm/bulkhead', import.meta.url).pathname;

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  mkdirSync(new URL('../dist/', import.meta.url).pathname, { recursive: true });
  writeFileSync(INSTALL_PATH, installYaml());
  console.log(`wrote ${INSTALL_PATH}`);
  rmSync(HELM_CHART_DIR, { recursive: true, force: true });
  for (const [path, text] of Object.entries(helmChartFiles())) {
    mkdirSync(dirname(join(HELM_CHART_DIR, path)), { recursive: true });
    writeFileSync(join(HELM_CHART_DIR, path), text);
  }
  console.log(`wrote ${HELM_CHART_DIR}`);
}
