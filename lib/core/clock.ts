/** A source of time in epoch milliseconds; injectable so time-dependent logic is testable exactly. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

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
 * Date.now() costs tens of nanoseconds on some VMs, a large share of a limiter decision.
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
    this.value = Date.now();
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
