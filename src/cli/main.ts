#!/usr/bin/env node
// The `bulkhead` command line: demo, validate, render, dataplane, operator, crds, completion.
// Usage errors (unknown flag, missing -f) exit 2, as input errors do (src/cli/errors.ts).

import { Command, CommanderError } from 'commander';
import { registerValidateCommand } from './validate.ts';
import { registerCrdsCommand } from './crds.ts';
import { registerRenderCommand } from './render.ts';
import { registerDemoCommand } from './demo.ts';
import { registerDataplaneCommand } from './dataplane.ts';
import { registerOperatorCommand } from './operator.ts';
import { registerCompletionCommand } from './completion.ts';
import { EXIT_USAGE } from './errors.ts';
import { VERSION } from '../version.ts';

const program = new Command();
program
  .name('bulkhead')
  .description('Kubernetes gateway operator: isolated proxy pools per product line')
  .version(VERSION);
registerValidateCommand(program);
registerCrdsCommand(program);
registerRenderCommand(program);
registerDemoCommand(program);
registerDataplaneCommand(program);
registerOperatorCommand(program);
registerCompletionCommand(program);

// commander prints its own one-line message; only the exit code is ours
for (const c of [program, ...program.commands]) c.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
}
