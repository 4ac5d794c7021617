import type { WindowSample } from './sample-window.js';

/** Why an adaptive limit moved. */
export type LimitChangeReason =
  /** Pinned low for a moment to measure the no-load latency (at start, periodically, on drift). */
  | 'probe'
  /** The measurement is done: back to the limit it had, or the start's initialLimit. */
  | 'probe_end'
  /** Doubling while latency stays at the no-load latency (after the start or a drift). */
  | 'slow_start'
  /** The limit was used and latency stayed near the no-load latency: grows. */
  | 'growth'
  /** Latency rose over the no-load latency: calls queue at the dependency. */
  | 'latency'
  /** The dependency answered with overload signals (503, 429, a rejection). */
  | 'overload'
  /** Calls timed out. */
  | 'timeout';

/**
 * What a law sees of one window (windows with no success never reach a law). Its latency is
 * read two ways: as measured, to grow (the window must look unloaded), and less two standard
 * errors, to shrink (it must be loaded beyond what noise explains); in between, a law holds.
 */
export interface LawInput {
  /** The limit in force during the window. */
  readonly limit: number;
  /** The limit's exact value (fractional; `limit` is its floor). */
  readonly estimate: number;
  readonly window: WindowSample;
  /** The window's latency less what noise can explain (never under the no-load latency). */
  readonly loadedRttMs: number;
  readonly noLoadRttMs: number;
}

/** A law's verdict: the new estimate and why; undefined leaves the limit where it is. */
export interface LawVerdict {
  readonly estimate: number;
  readonly reason: 'growth' | 'latency';
}

/** How an algorithm moves the limit on latency (overload answers and probes are handled around it). */
export type LimitLaw = (input: LawInput) => LawVerdict | undefined;

/** A window used at least half the limit: only then does latency say anything about a higher one. */
const used = ({ window, limit }: LawInput) => window.inFlight * 2 >= limit;

export interface AimdLawOptions {
  /** Latency over `rttTolerance x no-load latency` is a drop. */
  rttTolerance: number;
  /** Multiplies the limit on a drop. */
  backoffRatio: number;
  /** A window slower than this (ms) is a drop too, whatever the no-load latency. */
  timeoutMs?: number;
}

/**
 * Additive increase, multiplicative decrease (TCP's, Netflix's AIMDLimit): x backoffRatio when
 * the window's latency exceeds the tolerance over the no-load latency (or `timeout`), else,
 * when the limit was used, + sqrt(limit)/2 (at least 1): +1 at 5, +15 at 1,000, so a large
 * limit regains a 10% cut in a few windows, not a hundred.
 */
export function aimdLaw(options: AimdLawOptions): LimitLaw {
  return (input) => {
    const { window, loadedRttMs, noLoadRttMs, estimate } = input;
    const slow = options.timeoutMs !== undefined && loadedRttMs > options.timeoutMs;
    const threshold = noLoadRttMs * options.rttTolerance;
    if (slow || loadedRttMs > threshold) return { estimate: estimate * options.backoffRatio, reason: 'latency' };
    if (!used(input) || window.rttMs > threshold) return undefined;
    return { estimate: estimate + Math.max(1, Math.floor(Math.sqrt(estimate) / 2)), reason: 'growth' };
  };
}

/**
 * TCP Vegas on latency (Netflix's VegasLimit): the calls queued at the dependency are
 * estimated as `limit x (1 - noLoad / rtt)` and kept between alpha and 2 alpha, where alpha
 * is 3 log10(limit) as Netflix's but at most 5% of the limit (at least 0.5), so a small
 * limit does not sit 50-100% above the capacity (Netflix's 3-6 calls of queue at a capacity
 * of 5). Growth and shrinking go to the middle of that band (times `smoothing`), a shrink by at most half.
 */
export function vegasLaw(options: { smoothing: number }): LimitLaw {
  const { smoothing } = options;
  return (input) => {
    const { window, loadedRttMs, noLoadRttMs, limit, estimate } = input;
    const alpha = Math.max(0.5, Math.min(3 * Math.log10(limit), 0.05 * limit));
    const beta = 2 * alpha;
    const middle = (alpha + beta) / 2;
    const queued = (rtt: number) => Math.max(0, limit * (1 - noLoadRttMs / rtt));
    const loaded = queued(loadedRttMs);
    if (loaded > beta) {
      return { estimate: estimate - smoothing * Math.min(loaded - middle, estimate / 2), reason: 'latency' };
    }
    const queue = queued(window.rttMs);
    if (queue >= alpha || !used(input)) return undefined;
    // Far under the band (no queue at all), grow by a tenth: +1.5 a window at 20 would take
    // seconds to find a capacity of 40.
    const step = queue < alpha / 2 ? Math.max(middle - queue, 0.1 * limit) : middle - queue;
    return { estimate: estimate + smoothing * Math.max(1, step), reason: 'growth' };
  };
}

export interface Gradient2LawOptions {
  /** Latency growth over the no-load latency the limit settles at. */
  rttTolerance: number;
  /** Weight of a new estimate, 0 to 1. */
  smoothing: number;
  /** Head room added at each update. */
  queueSize: number;
}

/**
 * A latency gradient (Envoy's adaptive concurrency, Netflix's Gradient2Limit): the limit is
 * scaled by `rttTolerance x noLoad / rtt` (clamped to [0.5, 1.5]), smoothed. It settles
 * where latency is `rttTolerance` times the no-load latency. Netflix's version measures
 * against a long-term average of latency instead, which follows the latency it causes: it
 * settled at 48 / 78 / 139 for capacities 10 / 40 / 200 on our simulation.
 */
export function gradient2Law(options: Gradient2LawOptions): LimitLaw {
  const gradientOf = (noLoadRttMs: number, rttMs: number) =>
    Math.max(0.5, Math.min(1.5, (options.rttTolerance * noLoadRttMs) / rttMs));
  return (input) => {
    const { window, loadedRttMs, noLoadRttMs, estimate } = input;
    let gradient = gradientOf(noLoadRttMs, loadedRttMs);
    if (gradient >= 1) {
      gradient = gradientOf(noLoadRttMs, window.rttMs);
      if (gradient <= 1 || !used(input)) return undefined;
    }
    const target = estimate * gradient + options.queueSize;
    const next = estimate * (1 - options.smoothing) + target * options.smoothing;
    return { estimate: next, reason: next >= estimate ? 'growth' : 'latency' };
  };
}
