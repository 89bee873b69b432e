// Process bookkeeping for the benchmark runner: every process it starts goes through `launch()`, is
// remembered by PID, and is stopped by PID (with its own descendants, e.g. nginx's worker) by
// `stopAll()`, which the runner calls on success, on errors and on SIGINT/SIGTERM. Nothing here
// signals a process by name.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

export interface Launched {
  name: string;
  pid: number;
  child: ChildProcess;
  /** everything the process printed, capped, for error messages */
  output(): string;
  exited: Promise<number | null>;
}

const running = new Map<number, Launched>();
const OUTPUT_CAP = 16_384;

/** Core list for `taskset -c`, or null to let the scheduler place the process. */
export type Cores = string | null;

export function launch(
  name: string,
  cmd: string,
  args: string[],
  cores: Cores,
  env?: NodeJS.ProcessEnv,
): Launched {
  // taskset execs the command, so the PID we keep is the command's own.
  const argv = cores === null ? [cmd, ...args] : ['taskset', '-c', cores, cmd, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ?? process.env,
  });
  if (child.pid === undefined) throw new Error(`BH_BENCH_SPAWN: could not start ${name} (${argv.join(' ')})`);
  let buf = '';
  const keep = (chunk: Buffer): void => {
    buf += chunk.toString('utf8');
    if (buf.length > OUTPUT_CAP) buf = buf.slice(-OUTPUT_CAP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child.pid!);
      resolve(code);
    });
    child.once('error', () => resolve(null));
  });
  const proc: Launched = { name, pid: child.pid, child, output: () => buf, exited };
  running.set(child.pid, proc);
  return proc;
}

/** Resolves with the first stdout line matching `re`, or rejects after `timeoutMs` / on exit. */
export function waitForLine(proc: Launched, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const m = seen.match(re);
      if (m) finish(() => resolve(m));
    };
    const onExit = (code: number | null): void =>
      finish(() =>
        reject(
          new Error(
            `BH_BENCH_EXITED: ${proc.name} exited (${code}) before it was ready:\n${proc.output().trim()}`,
          ),
        ),
      );
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new Error(
              `BH_BENCH_TIMEOUT: ${proc.name} not ready in ${timeoutMs} ms:\n${proc.output().trim()}`,
            ),
          ),
        ),
      timeoutMs,
    );
    function finish(then: () => void): void {
      clearTimeout(timer);
      proc.child.stdout!.off('data', onData);
      proc.child.off('exit', onExit);
      then();
    }
    proc.child.stdout!.on('data', onData);
    proc.child.once('exit', onExit);
  });
}

/** Polls until a TCP connect to 127.0.0.1:port succeeds (nginx prints nothing when ready). */
export async function waitForPort(proc: Launched, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running.has(proc.pid))
      throw new Error(`BH_BENCH_EXITED: ${proc.name} exited before listening:\n${proc.output().trim()}`);
    if (await canConnect(port)) return;
    await sleep(50);
  }
  throw new Error(
    `BH_BENCH_TIMEOUT: ${proc.name} did not listen on ${port} in ${timeoutMs} ms:\n${proc.output().trim()}`,
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel picked it for a throwaway listener). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** PIDs of `pid` and all its descendants (read from /proc). */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = statFields(Number(entry))?.[1];
    if (ppid === undefined) continue;
    const kids = parentOf.get(Number(ppid)) ?? [];
    kids.push(Number(entry));
    parentOf.set(Number(ppid), kids);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    for (const k of parentOf.get(p) ?? []) queue.push(k);
  }
  return out;
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, ...]; null when gone. */
function statFields(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU seconds used so far by `pid` and its descendants. */
export function cpuSeconds(pid: number): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15 of stat)
  }
  return ticks / ticksPerSecond;
}

/** SIGTERM to the process and its descendants, SIGKILL to whatever is left after `graceMs`. */
export async function stop(proc: Launched, graceMs = 2000): Promise<void> {
  const tree = processTree(proc.pid);
  for (const p of tree) signal(p, 'SIGTERM');
  const done = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  // Descendants that outlived their parent (orphaned workers) are still ours: kill those too.
  for (const p of tree) if ((!done || p !== proc.pid) && statFields(p) !== null) signal(p, 'SIGKILL');
  running.delete(proc.pid);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running.values()].map((p) => stop(p)));
}

/** Last resort from a synchronous 'exit' handler: SIGKILL by PID, descendants included. */
export function killAllNow(): void {
  for (const proc of running.values()) for (const p of processTree(proc.pid)) signal(p, 'SIGKILL');
  running.clear();
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
