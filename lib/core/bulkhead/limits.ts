/** What a completed call tells an adaptive limit (Netflix concurrency-limits' sample). */
export interface LimitSample {
  /** How long the call took, in milliseconds. */
  readonly rttMs: number;
  /** Calls in flight when it started (itself included). */
  readonly inFlight: number;
  /** A timeout or a counted failure: the dependency is overloaded. */
  readonly dropped: boolean;
}

/** How many calls may run at once; adaptive limits move on completed calls only. */
export interface ConcurrencyLimit {
  /** The current limit, an integer in [min, max]. */
  readonly limit: number;
  /** Adjusts the limit after a call completed. */
  update(sample: LimitSample): void;
}

export class FixedLimit implements ConcurrencyLimit {
  constructor(readonly limit: number) {}

  update(): void {}
}

export interface AimdOptions {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** Multiplies the limit on a drop. Default 0.9. */
  backoffRatio?: number;
  /** A call slower than this counts as a drop. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Additive increase, multiplicative decrease (TCP's, as in Netflix's AIMDLimit): +1 after
 * a call that completed while at least half the limit was in use; x backoffRatio after a
 * drop or a call slower than the timeout.
 */
export class AimdLimit implements ConcurrencyLimit {
  private current: number;
  private readonly backoffRatio: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: AimdOptions) {
    this.current = options.initialLimit;
    this.backoffRatio = options.backoffRatio ?? 0.9;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  get limit(): number {
    return this.current;
  }

  update({ rttMs, inFlight, dropped }: LimitSample): void {
    let next = this.current;
    if (dropped || rttMs > this.timeoutMs) next = Math.floor(next * this.backoffRatio);
    else if (inFlight * 2 >= next) next += 1;
    this.current = Math.min(this.options.maxLimit, Math.max(this.options.minLimit, next));
  }
}

/** log10 of the limit, at least 1: Vegas's queue thresholds grow slowly with the limit. */
const log10 = (limit: number) => Math.max(1, Math.floor(Math.log10(limit)));

export interface VegasOptions {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** Weight of a new estimate, 0 to 1. Default 1. */
  smoothing?: number;
  /**
   * Every about `probeMultiplier x limit` samples the no-load latency is measured again
   * (the dependency may have become slower for good). 0 never probes. Default 30.
   */
  probeMultiplier?: number;
  /** Jitter of the probe interval; injectable for deterministic tests. Default Math.random. */
  random?: () => number;
}

/**
 * TCP Vegas on latency (Netflix's VegasLimit): the queue is estimated as
 * `limit x (1 - noLoadRtt / rtt)`; below alpha (3 log10 limit) the limit grows, above beta
 * (6 log10 limit) it shrinks, and a drop shrinks it at once.
 */
export class VegasLimit implements ConcurrencyLimit {
  private estimate: number;
  private noLoadRtt = 0;
  private probeCount = 0;
  private probeJitter: number;
  private readonly smoothing: number;
  private readonly probeMultiplier: number;
  private readonly random: () => number;

  constructor(private readonly options: VegasOptions) {
    this.estimate = options.initialLimit;
    this.smoothing = options.smoothing ?? 1;
    this.probeMultiplier = options.probeMultiplier ?? 30;
    this.random = options.random ?? Math.random;
    this.probeJitter = this.jitter();
  }

  get limit(): number {
    return clampLimit(this.estimate, this.options);
  }

  update({ rttMs, inFlight, dropped }: LimitSample): void {
    if (!(rttMs > 0)) return;
    this.probeCount++;
    if (this.probeMultiplier > 0 && this.probeJitter * this.probeMultiplier * this.estimate <= this.probeCount) {
      this.probeJitter = this.jitter();
      this.probeCount = 0;
      this.noLoadRtt = rttMs;
      return;
    }
    if (this.noLoadRtt === 0 || rttMs < this.noLoadRtt) {
      this.noLoadRtt = rttMs;
      return;
    }
    const estimate = this.estimate;
    const size = log10(estimate);
    let next: number;
    if (dropped) next = estimate - size;
    else if (inFlight * 2 < estimate) return;
    else {
      const queue = Math.ceil(estimate * (1 - this.noLoadRtt / rttMs));
      if (queue <= size) next = estimate + 6 * size;
      else if (queue < 3 * size) next = estimate + size;
      else if (queue > 6 * size) next = estimate - size;
      else return;
    }
    next = Math.max(1, Math.min(this.options.maxLimit, next));
    this.estimate = (1 - this.smoothing) * estimate + this.smoothing * next;
  }

  private jitter(): number {
    return 0.5 + this.random() * 0.5;
  }
}

export interface Gradient2Options {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** Weight of a new estimate. Default 0.2. */
  smoothing?: number;
  /** Allowed latency growth over the long-term average before the limit shrinks (>= 1). Default 1.5. */
  rttTolerance?: number;
  /** Samples of the long-term latency average. Default 600. */
  longWindow?: number;
  /** Head room added to the limit each update. Default 4. */
  queueSize?: number;
}

/**
 * Netflix's Gradient2Limit: the gradient between the long-term average latency and the
 * latest one (clamped to [0.5, 1]) scales the limit, plus a small queue of head room.
 */
export class Gradient2Limit implements ConcurrencyLimit {
  private estimate: number;
  private longRtt = 0;
  private samples = 0;
  private readonly smoothing: number;
  private readonly tolerance: number;
  private readonly longWindow: number;
  private readonly queueSize: number;

  constructor(private readonly options: Gradient2Options) {
    this.estimate = options.initialLimit;
    this.smoothing = options.smoothing ?? 0.2;
    this.tolerance = options.rttTolerance ?? 1.5;
    this.longWindow = options.longWindow ?? 600;
    this.queueSize = options.queueSize ?? 4;
  }

  get limit(): number {
    return clampLimit(this.estimate, this.options);
  }

  update({ rttMs, inFlight, dropped }: LimitSample): void {
    if (!(rttMs > 0)) return;
    // An exponential average, a plain mean over the first 10 samples (warm-up).
    this.samples++;
    const factor = this.samples <= 10 ? 1 / this.samples : 2 / (this.longWindow + 1);
    this.longRtt = this.longRtt * (1 - factor) + rttMs * factor;
    // Latency far under the long-term average: the past overload is over, let the average catch up.
    if (this.longRtt / rttMs > 2) this.longRtt *= 0.95;
    const estimate = this.estimate;
    if (!dropped && inFlight < estimate / 2) return;
    const gradient = dropped ? 0.5 : Math.max(0.5, Math.min(1, (this.tolerance * this.longRtt) / rttMs));
    const next = estimate * gradient + this.queueSize;
    const smoothed = estimate * (1 - this.smoothing) + next * this.smoothing;
    this.estimate = Math.max(this.options.minLimit, Math.min(this.options.maxLimit, smoothed));
  }
}

function clampLimit(estimate: number, { minLimit, maxLimit }: { minLimit: number; maxLimit: number }): number {
  return Math.min(maxLimit, Math.max(minLimit, Math.floor(estimate)));
}
