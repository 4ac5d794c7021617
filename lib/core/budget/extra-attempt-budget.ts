import { type Clock, systemClock } from '../clock.js';

export interface ExtraAttemptBudgetOptions {
  /** Extra attempts (retries and hedges) allowed per call, over the window: 0.2 = 20% more load at most. */
  ratio: number;
  /** Extra attempts allowed per second whatever the traffic, so a quiet service can still retry. Default 10. */
  minPerSecond?: number;
  /** Seconds of history the ratio is taken over. Default 10. */
  windowSeconds?: number;
  clock?: Clock;
}

/** Buckets per window: the window slides by a tenth of itself. */
const BUCKETS = 10;

/**
 * One budget for the extra attempts of a service (Finagle's RetryBudget, failsafe-go's
 * budget): retries and hedges both draw from it. Over the last `windowSeconds`, extra
 * attempts may not exceed `ratio` x calls + `minPerSecond` x window. When most calls fail
 * or are slow, more attempts cannot help and would multiply the load on a dependency that is
 * already struggling: the budget runs out and the extra attempts stop, whatever each call's
 * own policy allows. Time is bucketed, so its cost per call is a few array reads.
 */
export class ExtraAttemptBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly windowSeconds: number;
  private readonly clock: Clock;
  private readonly bucketMs: number;
  private readonly calls = new Float64Array(BUCKETS);
  private readonly extras = new Float64Array(BUCKETS);
  /** The bucket index (time / bucketMs) the arrays were last rolled to. */
  private epoch = Number.NEGATIVE_INFINITY;
  private current = 0;
  private callSum = 0;
  private extraSum = 0;
  private refused = 0;
  /** The rest of the fleet's calls and extra attempts in its window (a shared budget; 0 alone). */
  private othersCalls = 0;
  private othersExtras = 0;

  constructor(options: ExtraAttemptBudgetOptions) {
    const { ratio, minPerSecond = 10, windowSeconds = 10 } = options;
    if (!(ratio >= 0)) throw new RangeError(`budget.ratio must be >= 0, got ${ratio}`);
    if (!(minPerSecond >= 0)) throw new RangeError(`budget.minPerSecond must be >= 0, got ${minPerSecond}`);
    if (!(windowSeconds > 0)) throw new RangeError(`budget.windowSeconds must be > 0, got ${windowSeconds}`);
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    this.windowSeconds = windowSeconds;
    this.clock = options.clock ?? systemClock;
    this.bucketMs = (windowSeconds * 1000) / BUCKETS;
  }

  /** A call started (its first attempt): it earns `ratio` extra attempts. */
  recordCall(): void {
    this.roll();
    this.calls[this.current]++;
    this.callSum++;
  }

  /** Takes one extra attempt, if the budget has one; false (counted in `refusals`) if not. */
  tryAcquire(): boolean {
    this.roll();
    const extras = this.extraSum + this.othersExtras;
    if (extras + 1 > this.ratio * (this.callSum + this.othersCalls) + this.minPerSecond * this.windowSeconds) {
      this.refused++;
      return false;
    }
    this.extras[this.current]++;
    this.extraSum++;
    return true;
  }

  /** This replica's calls and extra attempts in the window (what a shared budget tells the fleet). */
  ownWindow(): { calls: number; extras: number } {
    this.roll();
    return { calls: this.callSum, extras: this.extraSum };
  }

  /**
   * The other replicas' calls and extra attempts in their windows (a budget shared by a fleet,
   * as last read): the ratio and `minPerSecond` then bound the fleet's extra attempts together.
   */
  setOthers(calls: number, extras: number): void {
    this.othersCalls = calls;
    this.othersExtras = extras;
  }

  /** The other replicas' window as last read (zeros for a budget that is not shared). */
  othersWindow(): { calls: number; extras: number } {
    return { calls: this.othersCalls, extras: this.othersExtras };
  }

  /** Extra attempts taken in the window. */
  get spent(): number {
    this.roll();
    return this.extraSum;
  }

  /** Extra attempts refused since the budget was made. */
  get refusals(): number {
    return this.refused;
  }

  /** Empties the buckets that fell out of the window since the last call. */
  private roll(): void {
    const epoch = Math.floor(this.clock.now() / this.bucketMs);
    if (epoch === this.epoch) return;
    if (epoch - this.epoch >= BUCKETS) {
      this.calls.fill(0);
      this.extras.fill(0);
      this.callSum = 0;
      this.extraSum = 0;
    } else {
      for (let e = this.epoch + 1; e <= epoch; e++) {
        const index = slot(e);
        this.callSum -= this.calls[index];
        this.extraSum -= this.extras[index];
        this.calls[index] = 0;
        this.extras[index] = 0;
      }
    }
    this.epoch = epoch;
    this.current = slot(epoch);
  }
}

/** The bucket of an epoch (a clock before 1970, a test's, is negative). */
function slot(epoch: number): number {
  return ((epoch % BUCKETS) + BUCKETS) % BUCKETS;
}
