import type { BulkheadRejectedError } from '../errors.js';
import type { Waiter } from './waiters.js';

/** What a queued call needs of its bulkhead. */
export interface QueueOwner {
  run<T, S>(fn: (state: S) => T | PromiseLike<T>, state: S): Promise<T>;
  timedOut(call: Waiter): BulkheadRejectedError;
}

/**
 * A call waiting for a slot: its operation, how its caller's promise ends, and its place in
 * the deadline queue. Admitted, it runs at once and the caller's promise follows the run.
 */
export class QueuedCall<T, S> implements Waiter {
  settled = false;
  signal?: AbortSignal;
  abortListener?: () => void;

  constructor(
    readonly at: number,
    private readonly owner: QueueOwner,
    private readonly fn: (state: S) => T | PromiseLike<T>,
    private readonly state: S,
    private readonly resolve: (value: T | PromiseLike<T>) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  admit(): void {
    // One reaction rather than resolving with the run's promise (which costs two more turns).
    this.owner.run(this.fn, this.state).then(this.resolve, this.reject);
  }

  cancel(reason: unknown): void {
    this.reject(reason);
  }

  expire(): void {
    this.reject(this.owner.timedOut(this));
  }
}

/** The criticality a rank stands for (undefined: unclassed, ranked as critical). */
