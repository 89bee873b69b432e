// The last-resort handlers of a data-plane process (`bulkhead dataplane`, and every cluster worker):
// an exception that escaped every connection and stream guard, or a rejected promise nobody awaited,
// is logged with its stack, counted in bulkhead_connection_errors_total{reason} and the process keeps
// serving, instead of taking down every route of every team on the pool.
//
// Why that is safe enough here: the data plane keeps no multi-step invariants in shared memory that
// a handler interrupted halfway could leave broken for everyone. The snapshot is swapped by one
// reference assignment, metrics are counters, and per-request state belongs to one connection or
// stream. What an interrupted handler can leave behind is that one connection, stream or upstream
// socket half-finished; the idle, header and request timeouts reclaim those.
// Its limits: a handler that throws between two related updates of shared state (the overload
// guard's in-flight count, a pool's idle list) can leak a slot for good, so a process that keeps
// throwing is broken, not attacked: past `maxPerMinute` escaped errors in one minute the guard exits
// with status 70 and lets Kubernetes (or the cluster primary) start a fresh process. Node's own
// fatal errors (out of memory, a native abort) never reach these handlers.

import type { Logger } from 'pino';
import { GuardReason } from './h2-guard.ts';

export interface ProcessGuardOptions {
  count(reason: string): void;
  log: Logger;
  /** escaped errors per minute tolerated before the process exits (default 100) */
  maxPerMinute?: number;
  /** how to stop when over the limit (default process.exit) */
  exit?: (code: number) => void;
}

export const EXIT_TOO_MANY_ERRORS = 70;

/** Installs both handlers; returns the function that removes them (for a clean shutdown). */
export function installProcessGuard(opts: ProcessGuardOptions): () => void {
  const max = opts.maxPerMinute ?? 100;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let windowStart = 0;
  let inWindow = 0;
  let exiting = false;
  const escaped = (reason: string, err: unknown, origin: string): void => {
    try {
      opts.count(reason);
      opts.log.error(
        { reason, origin, err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
        'escaped error: logged and counted, the process keeps serving',
      );
    } catch {
      // logging must not throw out of the last-resort handler
    }
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      windowStart = now;
      inWindow = 0;
    }
    if (++inWindow > max && !exiting) {
      exiting = true;
      opts.log.fatal({ perMinute: inWindow }, 'too many escaped errors; exiting for a fresh process');
      opts.log.flush?.();
      exit(EXIT_TOO_MANY_ERRORS);
    }
  };
  const onException = (err: Error, origin: string): void =>
    escaped(GuardReason.uncaughtException, err, origin);
  const onRejection = (reason: unknown): void =>
    escaped(GuardReason.unhandledRejection, reason, 'unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
