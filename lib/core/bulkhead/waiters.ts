import type { Deadline } from '../deadline-queue.js';

/** A call waiting for a slot: its deadline in the bulkhead's one DeadlineQueue, and how it ends. */
export interface Waiter extends Deadline {
  admit(): void;
  /** Ends the wait with `reason` (shutdown). */
  cancel(reason: unknown): void;
  /** Set while the waiter listens to an AbortSignal. */
  abortListener?: () => void;
  signal?: AbortSignal;
  /** Its criticality's rank (0 most important), set when queued. */
  rank?: number;
}

/**
 * The FIFO of waiting calls: an array and a head index, so enqueue and dequeue are O(1).
 * A waiter that leaves early (timed out, aborted) is marked settled and skipped when the
 * head reaches it; the array is compacted when the skipped ones outweigh the live ones.
 */
export class WaiterQueue {
  private items: Waiter[] = [];
  private head = 0;
  /** Waiters that have not settled. */
  size = 0;

  push(waiter: Waiter): void {
    this.items.push(waiter);
    this.size++;
  }

  /** The oldest waiter still waiting, removed; undefined when none. */
  shift(): Waiter | undefined {
    while (this.head < this.items.length) {
      const waiter = this.items[this.head++];
      if (!waiter.settled) {
        this.size--;
        this.compact();
        return waiter;
      }
    }
    this.compact();
    return undefined;
  }

  /** A waiter that settled while queued (its caller already told): no longer counted. */
  left(): void {
    this.size--;
    this.compact();
  }

  private compact(): void {
    const length = this.items.length - this.head;
    if (length === 0) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    } else if (length > 1024 && this.size * 4 < length) {
      this.items = this.items.slice(this.head).filter((w) => !w.settled);
      this.head = 0;
    }
  }
}
