import { type Waiter, WaiterQueue } from './waiters.js';

/**
 * The waiting calls by criticality (rank 0 first): a FIFO per class, so a slot that frees goes
 * to the most important call waiting, and within a class to the oldest. When the queue is
 * full, an arrival evicts the oldest waiter of the least important class below its own.
 */
export class PriorityWaiters {
  private readonly classes = [new WaiterQueue(), new WaiterQueue(), new WaiterQueue(), new WaiterQueue()];
  /** Waiters that have not settled, every class. */
  size = 0;

  push(waiter: Waiter, rank: number): void {
    waiter.rank = rank;
    this.classes[rank].push(waiter);
    this.size++;
  }

  /** The most important, oldest waiter still waiting, removed; undefined when none. */
  shift(): Waiter | undefined {
    return this.take(0, this.classes.length - 1, 1);
  }

  /** The oldest waiter of the least important class less important than `rank`, removed; undefined when none. */
  evictBelow(rank: number): Waiter | undefined {
    return this.take(this.classes.length - 1, rank + 1, -1);
  }

  /** The oldest waiter of the first class with one, from rank `from` to `to` (inclusive) by `step`. */
  private take(from: number, to: number, step: 1 | -1): Waiter | undefined {
    for (let r = from; step > 0 ? r <= to : r >= to; r += step) {
      const queue = this.classes[r];
      if (queue.size === 0) continue;
      const waiter = queue.shift();
      if (waiter) {
        this.size--;
        return waiter;
      }
    }
    return undefined;
  }

  /** A waiter that settled while queued (its caller already told): no longer counted. */
  left(waiter: Waiter): void {
    this.classes[waiter.rank ?? 1].left();
    this.size--;
  }
}
