/** A source of time in epoch milliseconds; injectable so time-dependent logic is testable exactly. */
export interface Clock {
  now(): number;
  /**
   * Timers on this clock's time, for a clock that is not the process's (a simulation's
   * virtual time). Absent: deadlines (queue timeouts, call timeouts) use the process's timers.
   */
  readonly timers?: ClockTimers;
}

/** Schedules callbacks on a clock's own time: a virtual clock runs them when its time reaches them. */
export interface ClockTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Epoch milliseconds that never step: the process's start in wall time plus a monotonic
 * count since. A wall clock stepped back an hour (NTP, a VM restored, an operator) would
 * otherwise hold an open breaker an hour, or end a window early when stepped forward;
 * durations (open times, leases, windows, deadlines, backoffs) must not see it. Across
 * processes it may differ from the wall clock by what the wall clock was adjusted since
 * start; times shared by processes come from elsewhere (Redis's TIME, `wallClock`).
 */
export const monotonicNow = (): number => performance.timeOrigin + performance.now();

/** The default clock of every policy: monotonic (see monotonicNow). */
export const systemClock: Clock = { now: monotonicNow };

/** The wall clock, for times people read or other processes compare (a dead letter's createdAt). */
export const wallClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests and simulations. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.current += ms;
  }

  set(epochMs: number): void {
    this.current = epochMs;
  }
}

/** Reads of the coarse clock between two real readings, at most. */
const COARSE_READS = 64;

/**
 * Reading the clock costs tens of nanoseconds on some VMs, a large share of a limiter decision.
 * This clock reuses one reading for the rest of the current macrotask (a single
 * setImmediate, not a timer per call, marks its end) and for at most 64 reads, so within a
 * burst of calls it is microseconds stale at most, and never stale across I/O.
 */
export class CoarseClock implements Clock {
  private value = 0;
  private reads = COARSE_READS;
  private armed = false;
  private readonly expire = () => {
    this.armed = false;
    this.reads = COARSE_READS;
  };

  now(): number {
    if (this.reads < COARSE_READS) {
      this.reads++;
      return this.value;
    }
    this.value = monotonicNow();
    this.reads = 1;
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.expire).unref();
    }
    return this.value;
  }
}

/** The process-wide coarse clock (see CoarseClock). */
export const coarseClock: Clock = new CoarseClock();
