// Summarises V8 CPU profiles (`.cpuprofile`, as written by `node --cpu-prof`, e.g. from
// `bench/run.ts --cpu-prof <dir>`): self time per function and per source file, so a benchmark
// result can say where the proxy's CPU goes.
// Usage: node --import tsx bench/prof-summary.ts <file.cpuprofile> [top=25]

import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: prof-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
// Percentages are of busy time: idle samples (the process waiting for I/O) are left out.
let total = 0;
let idle = 0;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  if (byId.get(id)?.callFrame.functionName === '(idle)') {
    idle += dt;
    return;
  }
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  total += dt;
});

/** The nearest frame with source (native work such as writev is charged to its JS caller). */
function jsFrame(id: number): ProfileNode {
  let n = byId.get(id)!;
  while (n.callFrame.url === '' && parent.has(n.id)) n = byId.get(parent.get(n.id)!)!;
  return n;
}

const shortUrl = (url: string): string => {
  if (url === '') return '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const i = clean.indexOf('/src/');
  return i >= 0
    ? clean.slice(i + 1)
    : clean.includes('node_modules')
      ? clean.slice(clean.lastIndexOf('node_modules'))
      : path.basename(clean);
};

const perFn = new Map<string, number>();
const perFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const where = shortUrl(n.callFrame.url);
  const fn = `${n.callFrame.functionName || '(anonymous)'} ${where}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  perFn.set(fn, (perFn.get(fn) ?? 0) + us);
  const owner = shortUrl(jsFrame(id).callFrame.url);
  perFile.set(owner, (perFile.get(owner) ?? 0) + us);
}

const top = Number(topArg);
const show = (title: string, m: Map<string, number>): void => {
  console.log(
    `\n${title} (% of ${(total / 1e6).toFixed(1)} s busy; ${(idle / 1e6).toFixed(1)} s idle left out)`,
  );
  for (const [k, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(6)} %  ${k}`);
  }
};
process.stdout.on('error', () => process.exit(0)); // output piped into head
show('functions, self time', perFn);
show('files, self time with native work charged to the calling JS frame', perFile);
