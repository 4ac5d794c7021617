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
