#!/usr/bin/env node
// The `bulkhead` command line: demo, validate, render, dataplane, operator, crds.

import { Command } from 'commander';
import { registerValidateCommand } from './validate.ts';
import { registerCrdsCommand } from './crds.ts';
import { registerRenderCommand } from './render.ts';
import { registerDemoCommand } from './demo.ts';
import { registerDataplaneCommand } from './dataplane.ts';
import { registerOperatorCommand } from './operator.ts';

const program = new Command();
program
  .name('bulkhead')
  .description('Kubernetes gateway operator: isolated proxy pools per product line')
  .version('0.1.0');
registerValidateCommand(program);
registerCrdsCommand(program);
registerRenderCommand(program);
registerDemoCommand(program);
registerDataplaneCommand(program);
registerOperatorCommand(program);

await program.parseAsync(process.argv);
