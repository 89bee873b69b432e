// Retry policy and the process-wide retry budget. Retries are off unless a route asks for them, fire
// only on the named conditions and only for requests whose body can be replayed; the budget keeps
// retries in flight under `budgetPercent` of active requests (with a small per-second floor so a
// quiet pool can still retry), which is what stops retries snowballing across proxy layers.

import type { RetriesIR } from '../ir/snapshot.ts';

export const RetryCond = {
  connectFailure: 1,
  refusedStream: 2,
  reset: 4,
  unavailable: 8,
  s502: 16,
  s503: 32,
  s504: 64,
  // gRPC statuses of a trailers-only answer (gRPC requests only); `unavailable` above is grpc-status 14
  grpcCancelled: 128,
  grpcDeadlineExceeded: 256,
  grpcResourceExhausted: 512,
  grpcInternal: 1024,
} as const;

export interface RetryPolicy {
  readonly attempts: number;
  /** bitmask of RetryCond */
  readonly on: number;
  readonly perTryMs: number;
  readonly budgetPercent: number;
  readonly minPerSecond: number;
  /** response statuses that trigger a retry, as a bitmask over 502/503/504 */
  readonly statusMask: number;
}

export function retryPolicy(ir: RetriesIR): RetryPolicy | null {
  if (ir.attempts <= 0 || ir.on.length === 0) return null;
  let on = 0;
  for (const c of ir.on) {
    switch (c) {
      case 'connect-failure':
        on |= RetryCond.connectFailure;
        break;
      case 'refused-stream':
        on |= RetryCond.refusedStream;
        break;
      case 'reset':
        on |= RetryCond.reset;
        break;
      case 'unavailable':
        on |= RetryCond.unavailable;
        break;
      case '502':
        on |= RetryCond.s502;
        break;
      case '503':
        on |= RetryCond.s503;
        break;
      case '504':
        on |= RetryCond.s504;
        break;
      case 'gateway-error':
        on |= RetryCond.s502 | RetryCond.s503 | RetryCond.s504;
        break;
      case 'cancelled':
        on |= RetryCond.grpcCancelled;
        break;
      case 'deadline-exceeded':
        on |= RetryCond.grpcDeadlineExceeded;
        break;
      case 'resource-exhausted':
        on |= RetryCond.grpcResourceExhausted;
        break;
      case 'internal':
        on |= RetryCond.grpcInternal;
        break;
    }
  }
  return {
    attempts: ir.attempts,
    on,
    perTryMs: ir.perTryTimeoutMs,
    budgetPercent: ir.budgetPercent,
    minPerSecond: ir.minRetriesPerSecond,
    statusMask: on & (RetryCond.s502 | RetryCond.s503 | RetryCond.s504),
  };
}

/** The RetryCond bit a grpc-status value stands for, or 0. */
export function grpcStatusCond(v: string | undefined): number {
  switch (v) {
    case '1':
      return RetryCond.grpcCancelled;
    case '4':
      return RetryCond.grpcDeadlineExceeded;
    case '8':
      return RetryCond.grpcResourceExhausted;
    case '13':
      return RetryCond.grpcInternal;
    case '14':
      return RetryCond.unavailable;
    default:
      return 0;
  }
}

/** The RetryCond bit a response status stands for, or 0. */
export function statusCond(status: number): number {
  return status === 502
    ? RetryCond.s502
    : status === 503
      ? RetryCond.s503
      : status === 504
        ? RetryCond.s504
        : 0;
}

export class RetryBudget {
  inFlight = 0;
  private second = 0;
  private thisSecond = 0;

  /** Reserve one retry; false when the budget refuses it. Pair a true result with `release()`. */
  tryAcquire(policy: RetryPolicy, nowMs: number, active: number): boolean {
    const sec = (nowMs / 1000) | 0;
    if (sec !== this.second) {
      this.second = sec;
      this.thisSecond = 0;
    }
    const allowed =
      this.thisSecond < policy.minPerSecond || this.inFlight < (active * policy.budgetPercent) / 100;
    if (!allowed) return false;
    this.thisSecond++;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight--;
  }
}
