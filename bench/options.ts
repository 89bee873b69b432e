// Command-line options of bench/run.ts, the core placement and version strings for the report.

import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Cores } from './procs.ts';
import { SUITES, type Suite } from './report.ts';

export interface Options {
  quick: boolean;
  writeDocs: boolean;
  rounds: number;
  durationSec: number;
  warmupSec: number;
  peers: Set<string> | null;
  suites: Set<Suite>;
  pin: boolean;
  /** directory for V8 CPU profiles of the Bulkhead peer (node --cpu-prof), or null */
  cpuProf: string | null;
  /** re-render bench/results/latest.json (tables, ratios, docs) without measuring */
  renderOnly: boolean;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false,
    writeDocs: false,
    rounds: 1,
    durationSec: 10,
    warmupSec: 2,
    peers: null,
    suites: new Set(SUITES),
    pin: true,
    cpuProf: null,
    renderOnly: false,
  };
  let durationSet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`BH_BENCH_ARGS: ${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--write-docs') o.writeDocs = true;
    else if (a === '--no-pin') o.pin = false;
    else if (a === '--render-only') o.renderOnly = true;
    else if (a === '--cpu-prof') o.cpuProf = path.resolve(value());
    else if (a === '--rounds') o.rounds = Math.max(1, Number.parseInt(value(), 10) || 1);
    else if (a === '--duration')
      ((o.durationSec = Math.max(1, Number.parseInt(value(), 10) || 1)), (durationSet = true));
    else if (a === '--peers') o.peers = new Set(value().split(','));
    else if (a === '--suites') o.suites = suitesArg(value());
    else throw new Error(`BH_BENCH_ARGS: unknown argument ${a}`);
  }
  if (o.cpuProf !== null && o.writeDocs)
    throw new Error('BH_BENCH_ARGS: a profiled run (--cpu-prof) is slower and never goes to the docs');
  if (o.quick && !durationSet) o.durationSec = 3;
  if (o.quick) o.warmupSec = 1;
  return o;
}

function suitesArg(v: string): Set<Suite> {
  const out = new Set<Suite>();
  for (const s of v.split(',')) {
    if (!(SUITES as readonly string[]).includes(s))
      throw new Error(`BH_BENCH_ARGS: --suites: unknown suite "${s}" (known: ${SUITES.join(', ')})`);
    out.add(s as Suite);
  }
  return out;
}

/** Cores: the measured proxy alone on core 0; load tool and backend share core 1. */
export function placement(pin: boolean): { proxy: Cores; load: Cores; backend: Cores; directLoad: Cores } {
  if (!pin || os.cpus().length < 2) return { proxy: null, load: null, backend: null, directLoad: null };
  return { proxy: '0', load: '1', backend: '1', directLoad: '0' };
}

/** First line a version command printed (nginx and wrk print theirs on stderr / exit non-zero). */
export function tryText(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim();
  return text.split('\n')[0] || `unavailable (${r.error?.message ?? `exit ${r.status}`})`;
}

/** `--name value` from the command line of a standalone bench script, or `def` when absent. */
export function argValue(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : (process.argv[i + 1] ?? def);
}
