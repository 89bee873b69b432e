// The attacking client as its own process (`node --import tsx test/hardening/attacker.ts <attack>
// <port> <ms>`), so that the flood's own work never slows the bystander measured in the test process.
// Prints one JSON line with what it did and what the server answered.

import { rapidResetFlood, unreadStreams } from './clients.ts';

const [attack, port, ms] = process.argv.slice(2);
const run: Record<string, (port: number, ms: number) => Promise<unknown>> = {
  'rapid-reset': rapidResetFlood,
  'unread-streams': unreadStreams,
};
const fn = run[attack ?? ''];
if (fn === undefined) {
  process.stderr.write(`attacker: unknown attack ${attack}; one of ${Object.keys(run).join(', ')}\n`);
  process.exit(2);
}
const result = await fn(Number(port), Number(ms));
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
