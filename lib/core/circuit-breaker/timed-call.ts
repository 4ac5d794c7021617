import type { Deadline, DeadlineQueue } from '../deadline-queue.js';
import type { CallContext } from './types.js';

/**
 * One call under `callTimeout`: its promise, its deadline and, only if the operation
 * reads `signal`, its AbortController. One object per call; no closure per call for
 * the deadline and no timer of its own.
 */
export class TimedCall<T> implements CallContext, Deadline {
  readonly promise: Promise<T>;
  settled = false;
  private resolve!: (value: T | PromiseLike<T>) => void;
  private controller?: AbortController;

  constructor(
    private readonly breaker: { timedOut(call: TimedCall<T>): void },
    private readonly deadlines: DeadlineQueue,
    readonly generation: number,
    readonly startedAt: number,
    readonly at: number,
  ) {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = resolve;
    });
    deadlines.push(this);
  }

  get signal(): AbortSignal {
    if (!this.controller) this.controller = new AbortController();
    return this.controller.signal;
  }

  expire(): void {
    this.breaker.timedOut(this);
  }

  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }

  resolveWith(outcome: T | PromiseLike<T>): void {
    this.resolve(outcome);
  }

  /** The operation ended before its deadline. */
  settle(outcome: T | PromiseLike<T>): void {
    if (this.settled) return;
    this.deadlines.settle(this);
    this.resolve(outcome);
  }
}

/** What runTimed needs of a breaker. */
interface TimedBreaker {
  timedOut<T>(call: TimedCall<T>): void;
  succeeded<T>(generation: number, startedAt: number, result: T): T | Promise<T>;
  failed<T>(generation: number, startedAt: number, error: unknown): Promise<T>;
}

/** Runs an admitted call under `timeoutMs`: it ends at its deadline whatever the operation does. */
export function runTimed<T, S>(
  breaker: TimedBreaker,
  deadlines: DeadlineQueue,
  timeoutMs: number,
  fn: (context: CallContext, state: S) => T | PromiseLike<T>,
  generation: number,
  startedAt: number,
  state: S,
): Promise<T> {
  const call = new TimedCall<T>(breaker, deadlines, generation, startedAt, deadlines.now() + timeoutMs);
  let pending: T | PromiseLike<T>;
  try {
    pending = fn(call, state);
  } catch (error) {
    call.settle(breaker.failed<T>(generation, startedAt, error));
    return call.promise;
  }
  // A call that already timed out was counted as a failure; its late outcome is ignored.
  Promise.resolve(pending).then(
    (result) => {
      if (!call.settled) call.settle(breaker.succeeded(generation, startedAt, result));
    },
    (error) => {
      if (!call.settled) call.settle(breaker.failed<T>(generation, startedAt, error));
    },
  );
  return call.promise;
}
