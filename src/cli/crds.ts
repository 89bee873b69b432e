// `bulkhead crds`: print the CustomResourceDefinitions (the same bytes as crds/).

import type { Command } from 'commander';
import { allCrds, crdYaml } from '../api/crd.ts';

export function renderCrdsYaml(): string {
  return allCrds().map(crdYaml).join('---\n');
}

export function registerCrdsCommand(program: Command): void {
  program
    .command('crds')
    .description('print the Bulkhead CustomResourceDefinitions')
    .action(() => {
      process.stdout.write(renderCrdsYaml());
    });
}
