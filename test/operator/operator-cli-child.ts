// Runs `bulkhead operator …` in a child process for the SIGTERM test (src/cli/main.ts registers
// the command for real; this keeps the test independent of the other commands).

import { Command } from 'commander';
import { registerOperatorCommand } from '../../src/cli/operator.ts';

const program = new Command().name('bulkhead');
registerOperatorCommand(program);
await program.parseAsync(process.argv);
