import type { CallOutcome } from './overload.js';

/** A completed call, as an adaptive limit sees it. */
export interface CallSample {
  /** When it ended (the limit's clock, ms). */
  readonly at: number;
  /** How long it took, ms. */
  readonly rttMs: number;
  /** Calls in flight when it started (itself included). */
  readonly inFlight: number;
  readonly outcome: CallOutcome;
}

/** What one window of calls tells the limit. */
export interface WindowSample {
  /** Average latency of the window's successful calls, ms (NaN when none succeeded). */
  readonly rttMs: number;
  /** Standard error of that average, ms (how far noise alone moves it). */
  readonly rttErrorMs: number;
  /** The most calls in flight at the start of any of its calls. */
  readonly inFlight: number;
  readonly successes: number;
  /** Calls the dependency answered with an overload signal (503, 429, a rejection). */
  readonly overloads: number;
  /** Calls that timed out. */
  readonly timeouts: number;
}

export interface SampleWindowOptions {
  /** Shortest window, ms. Default 100. */
  minWindowMs?: number;
  /** Longest window, ms. Default 1000. */
  maxWindowMs?: number;
  /** Calls a window needs before it counts. Default 10. */
  minSamples?: number;
}

/** The calls of one window, gathered. */
class Gathered {
  /** Calls that started before this are not in it. */
  openedAt = Number.NaN;
  /** Calls that started at or after this are not in it either (set once it has enough). */
  closedAt = Number.POSITIVE_INFINITY;
  /** Calls that started in it, and those of them that ended (ignored ones too). */
  starts = 0;
  ended = 0;
  successes = 0;
  sum = 0;
  squares = 0;
  fastest = Number.POSITIVE_INFINITY;
  slowest = 0;
  mostInFlight = 0;
  overloads = 0;
  timeouts = 0;

  get count(): number {
    return this.successes + this.overloads + this.timeouts;
  }

  reset(openedAt: number): void {
    this.openedAt = openedAt;
    this.closedAt = Number.POSITIVE_INFINITY;
    this.starts = 0;
    this.ended = 0;
    this.successes = 0;
    this.sum = 0;
    this.squares = 0;
    this.fastest = Number.POSITIVE_INFINITY;
    this.slowest = 0;
    this.mostInFlight = 0;
    this.overloads = 0;
    this.timeouts = 0;
  }

  add(sample: CallSample): void {
    this.ended++;
    if (sample.outcome === 'success') {
      this.successes++;
      this.sum += sample.rttMs;
      this.squares += sample.rttMs * sample.rttMs;
      if (sample.rttMs < this.fastest) this.fastest = sample.rttMs;
      if (sample.rttMs > this.slowest) this.slowest = sample.rttMs;
    } else if (sample.outcome === 'timeout') this.timeouts++;
    else if (sample.outcome === 'overload') this.overloads++;
    else return;
    if (sample.inFlight > this.mostInFlight) this.mostInFlight = sample.inFlight;
  }

  /**
   * Closed, it is complete once every call that started in it ended (when starts are told),
   * or its slowest had time to (1.5 x), or at once when one was overload.
   */
  settled(at: number): boolean {
    if (this.closedAt === Number.POSITIVE_INFINITY) return false;
    const allEnded = this.starts > 0 && this.ended >= this.starts;
    return allEnded || this.overloads + this.timeouts > 0 || at >= this.closedAt + 1.5 * this.slowest;
  }

  summary(): WindowSample {
    return {
      rttMs: this.successes > 0 ? this.sum / this.successes : Number.NaN,
      rttErrorMs: standardError(this.sum, this.squares, this.successes),
      inFlight: this.mostInFlight,
      successes: this.successes,
      overloads: this.overloads,
      timeouts: this.timeouts,
    };
  }
}

/**
 * A window of calls, as Netflix's WindowedLimit gathers them (an adaptive limit that reacted
 * to every call would overshoot), but by when calls STARTED: the calls that started in about
 * a round trip (the fastest, within [minWindowMs, maxWindowMs], and at least `minSamples`
 * of them), reported once they have all ended (told by `started`, else 1.5 x the slowest so
 * far), or at once when one was overload; calls that start meanwhile gather in the next window. A
 * window of calls that ENDED in a span keeps the fast ones of each start and loses the slow
 * ones: right after the limit moved, it measured a dependency whose latency spreads +-50% as
 * 17-30% faster than it is. Ignored calls (failures that say nothing of load) are in none.
 */
export class SampleWindow {
  readonly minWindowMs: number;
  readonly maxWindowMs: number;
  readonly minSamples: number;
  private current = new Gathered();
  /** Calls that started after `current` closed, while it waits for its last ones. */
  private next = new Gathered();
  private maxInFlight = Number.POSITIVE_INFINITY;

  constructor(options: SampleWindowOptions = {}) {
    this.minWindowMs = options.minWindowMs ?? 100;
    this.maxWindowMs = options.maxWindowMs ?? 1000;
    this.minSamples = options.minSamples ?? 10;
  }

  /** A call started (optional: told of starts, a window knows when its calls have all ended). */
  started(at: number, inFlight: number): void {
    const current = this.current;
    if (Number.isNaN(current.openedAt)) current.openedAt = at;
    if (at >= current.openedAt && inFlight <= this.maxInFlight) (at < current.closedAt ? current : this.next).starts++;
  }

  /** Adds a completed call (ignored ones too: they end calls of the window); returns the window when it is complete. */
  add(sample: CallSample): WindowSample | undefined {
    const startedAt = sample.at - sample.rttMs;
    const current = this.current;
    if (Number.isNaN(current.openedAt)) current.openedAt = startedAt;
    if (startedAt >= current.openedAt && sample.inFlight <= this.maxInFlight) {
      (startedAt < current.closedAt ? current : this.next).add(sample);
    }
    // An ignored call ends a call of its window but decides nothing: windows complete on samples.
    if (sample.outcome === 'ignored') return undefined;
    if (current.closedAt === Number.POSITIVE_INFINITY) {
      const span = Math.min(Math.max(current.fastest, this.minWindowMs), this.maxWindowMs);
      if (sample.at - current.openedAt < span || current.count < this.minSamples) return undefined;
      current.closedAt = sample.at;
      this.next.reset(sample.at);
    }
    if (!current.settled(sample.at)) return undefined;
    const done = current.summary();
    this.current = this.next;
    this.next = current;
    this.next.reset(Number.NaN);
    return done;
  }

  /** The window so far, complete or not. */
  summary(): WindowSample {
    return this.current.summary();
  }

  /**
   * Starts a new window of the calls that start from `at` on (the limit moved: older calls
   * tell of the old limit), of those that started with at most `maxInFlight` in flight.
   */
  restart(at: number, maxInFlight = Number.POSITIVE_INFINITY): void {
    this.current.reset(at);
    this.next.reset(Number.NaN);
    this.maxInFlight = maxInFlight;
  }
}

/** The standard error of a mean from its sum and sum of squares (0 with fewer than 2 values). */
export function standardError(sum: number, squares: number, n: number): number {
  if (n < 2) return 0;
  const variance = Math.max(0, (squares - (sum * sum) / n) / (n - 1));
  return Math.sqrt(variance / n);
}
