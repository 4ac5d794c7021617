import { type ClockTimers, monotonicNow } from './clock.js';

/** One pending deadline; `DeadlineQueue.settle()` cancels it in O(1). */
export interface Deadline {
  readonly at: number;
  settled: boolean;
  expire(): void;
}

/**
 * Deadlines that all share one duration arrive in deadline order, so a FIFO queue and
 * a single timer serve any number of concurrent calls: no timer per call, O(1) to add
 * and to cancel. The timer keeps the process alive while a deadline is pending, and only
 * then: a call whose only pending work is the timed-out operation must still time out
 * (an always-unref'd timer let the process exit with the call unsettled).
 */
export class DeadlineQueue {
  private items: Deadline[] = [];
  private head = 0;
  private timer: { ref?(): unknown; unref?(): unknown } | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  /** `timers`: a clock's own (virtual time), else the process's. */
  constructor(
    readonly now: () => number = monotonicNow,
    private readonly timers?: ClockTimers,
  ) {}

  /** Queues a deadline object of the caller's own (its `expire()` is called at `at` unless settled). */
  push<D extends Deadline>(deadline: D): D {
    this.items.push(deadline);
    if (deadline.at < this.timerAt) this.arm(deadline.at);
    else this.timer?.ref?.();
    return deadline;
  }

  /** Cancels a deadline; settled entries at the head are dropped so memory follows the calls in flight. */
  settle(deadline: Deadline): void {
    deadline.settled = true;
    while (this.head < this.items.length && this.items[this.head].settled) this.head++;
    this.compact();
    // Nothing pending: the timer stays armed (re-arming per call costs more than a
    // wasted wake-up) but no longer holds the process.
    if (this.items.length === 0) this.timer?.unref?.();
  }

  /**
   * Ends every pending deadline now with `end` (instead of its expire()) and releases the
   * timer: the application shuts down, and nothing pending may hold it or the process.
   */
  cancelAll(end: (deadline: Deadline) => void): void {
    const pending = this.items.slice(this.head).filter((d) => !d.settled);
    this.items = [];
    this.head = 0;
    this.clear();
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    for (const deadline of pending) {
      deadline.settled = true;
      end(deadline);
    }
  }

  private arm(at: number): void {
    this.clear();
    this.timerAt = at;
    const fire = () => this.fire();
    const ms = Math.max(0, at - this.now());
    this.timer = (this.timers ? this.timers.setTimeout(fire, ms) : setTimeout(fire, ms)) as typeof this.timer;
  }

  private clear(): void {
    if (!this.timer) return;
    if (this.timers) this.timers.clearTimeout(this.timer);
    else clearTimeout(this.timer as NodeJS.Timeout);
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    while (this.head < this.items.length) {
      const next = this.items[this.head];
      if (!next.settled && next.at > now) break;
      this.head++;
      if (!next.settled) {
        next.settled = true;
        next.expire();
      }
    }
    this.compact();
    if (this.head < this.items.length) this.arm(this.items[this.head].at);
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
