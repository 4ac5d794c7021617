/** Running totals of the calls a sliding window holds. */
export interface WindowTotals {
  calls: number;
  failures: number;
  slow: number;
}

/** A sliding window of call outcomes with O(1) record and O(1) totals. */
export interface OutcomeWindow {
  /** Records one call; afterwards `calls`, `failures` and `slow` describe the window. */
  record(failed: boolean, slow: boolean, nowMs: number): void;
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
  totals(nowMs: number): WindowTotals;
  reset(): void;
  toJSON(): WindowSnapshot;
}

export type WindowSnapshot =
  | { type: 'count'; size: number; outcomes: number[]; next: number; filled: number }
  | { type: 'time'; size: number; seconds: number[]; calls: number[]; failures: number[]; slow: number[] };

const FAILED = 1;
const SLOW = 2;

/** The last `size` calls: a ring of outcome flags plus running totals. */
export class CountWindow implements OutcomeWindow {
  private readonly outcomes: Uint8Array;
  private next = 0;
  private filled = 0;
  failures = 0;
  slow = 0;

  constructor(readonly size: number) {
    this.outcomes = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): void {
    const evicted = this.outcomes[this.next];
    if (this.filled === this.size) {
      if (evicted & FAILED) this.failures--;
      if (evicted & SLOW) this.slow--;
    } else {
      this.filled++;
    }
    const flags = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    this.outcomes[this.next] = flags;
    if (failed) this.failures++;
    if (slow) this.slow++;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
  }

  get calls(): number {
    return this.filled;
  }

  totals(): WindowTotals {
    return { calls: this.filled, failures: this.failures, slow: this.slow };
  }

  reset(): void {
    this.outcomes.fill(0);
    this.next = this.filled = this.failures = this.slow = 0;
  }

  toJSON(): WindowSnapshot {
    return { type: 'count', size: this.size, outcomes: [...this.outcomes], next: this.next, filled: this.filled };
  }

  static from(snapshot: Extract<WindowSnapshot, { type: 'count' }>): CountWindow {
    const window = new CountWindow(snapshot.size);
    window.outcomes.set(snapshot.outcomes.slice(0, snapshot.size));
    window.next = snapshot.next % snapshot.size;
    window.filled = Math.min(snapshot.filled, snapshot.size);
    for (let i = 0; i < window.size; i++) {
      if (window.outcomes[i] & FAILED) window.failures++;
      if (window.outcomes[i] & SLOW) window.slow++;
    }
    return window;
  }
}

/**
 * The last `size` seconds: a ring of one-second buckets plus running totals. A bucket
 * is evicted when time moves past it, so each second costs O(1) amortized.
 */
export class TimeWindow implements OutcomeWindow {
  private readonly seconds: Float64Array;
  private readonly bucketCalls: Uint32Array;
  private readonly bucketFailures: Uint32Array;
  private readonly bucketSlow: Uint32Array;
  private head = Number.NEGATIVE_INFINITY;
  private total: WindowTotals = { calls: 0, failures: 0, slow: 0 };

  constructor(readonly size: number) {
    this.seconds = new Float64Array(size).fill(-1);
    this.bucketCalls = new Uint32Array(size);
    this.bucketFailures = new Uint32Array(size);
    this.bucketSlow = new Uint32Array(size);
  }

  record(failed: boolean, slow: boolean, nowMs: number): void {
    const second = this.advance(nowMs);
    const i = second % this.size;
    this.seconds[i] = second;
    this.bucketCalls[i]++;
    this.total.calls++;
    if (failed) {
      this.bucketFailures[i]++;
      this.total.failures++;
    }
    if (slow) {
      this.bucketSlow[i]++;
      this.total.slow++;
    }
  }

  get calls(): number {
    return this.total.calls;
  }

  get failures(): number {
    return this.total.failures;
  }

  get slow(): number {
    return this.total.slow;
  }

  totals(nowMs: number): WindowTotals {
    this.advance(nowMs);
    return { ...this.total };
  }

  reset(): void {
    this.seconds.fill(-1);
    this.bucketCalls.fill(0);
    this.bucketFailures.fill(0);
    this.bucketSlow.fill(0);
    this.total = { calls: 0, failures: 0, slow: 0 };
    this.head = Number.NEGATIVE_INFINITY;
  }

  /** Moves the window's head to the current second, evicting the buckets it passes. */
  private advance(nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    // A clock that steps back records into the current bucket rather than a stale one.
    if (second <= this.head) return this.head;
    if (second - this.head >= this.size) {
      this.reset();
    } else {
      for (let s = this.head + 1; s <= second; s++) this.evict(s % this.size);
    }
    this.head = second;
    return second;
  }

  private evict(i: number): void {
    this.total.calls -= this.bucketCalls[i];
    this.total.failures -= this.bucketFailures[i];
    this.total.slow -= this.bucketSlow[i];
    this.bucketCalls[i] = this.bucketFailures[i] = this.bucketSlow[i] = 0;
    this.seconds[i] = -1;
  }

  toJSON(): WindowSnapshot {
    return {
      type: 'time',
      size: this.size,
      seconds: [...this.seconds],
      calls: [...this.bucketCalls],
      failures: [...this.bucketFailures],
      slow: [...this.bucketSlow],
    };
  }

  static from(snapshot: Extract<WindowSnapshot, { type: 'time' }>): TimeWindow {
    const window = new TimeWindow(snapshot.size);
    let head = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < window.size; i++) {
      window.seconds[i] = snapshot.seconds[i] ?? -1;
      window.bucketCalls[i] = snapshot.calls[i] ?? 0;
      window.bucketFailures[i] = snapshot.failures[i] ?? 0;
      window.bucketSlow[i] = snapshot.slow[i] ?? 0;
      window.total.calls += window.bucketCalls[i];
      window.total.failures += window.bucketFailures[i];
      window.total.slow += window.bucketSlow[i];
      if (window.seconds[i] > head) head = window.seconds[i];
    }
    window.head = head;
    return window;
  }
}
