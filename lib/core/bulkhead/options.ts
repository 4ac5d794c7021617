import type { Clock } from '../clock.js';
import { type Duration, toMilliseconds } from '../duration.js';
import { AdaptiveLimit, type ConcurrencyLimit, FixedLimit } from './adaptive-limit.js';
import { aimdLaw, gradient2Law, type LimitLaw, vegasLaw } from './laws.js';
import { isOverloadByDefault, type OverloadPredicate } from './overload.js';
import type { SampleWindowOptions } from './sample-window.js';

export const ADAPTIVE_ALGORITHMS = ['aimd', 'vegas', 'gradient2'] as const;
export type AdaptiveAlgorithm = (typeof ADAPTIVE_ALGORITHMS)[number];

/**
 * An adaptive limit: found from the latency of successful calls against the dependency's
 * no-load latency, and from overload signals, within [minLimit, maxLimit] (docs/bulkhead.md).
 */
export interface AdaptiveLimitOptions extends SampleWindowOptions {
  algorithm: AdaptiveAlgorithm;
  /** The limit after the no-load latency was first measured. Default: 20, or maxLimit if lower. */
  initialLimit?: number;
  /** Default 1. */
  minLimit?: number;
  /** Default: `maxConcurrent` when set, else 200. */
  maxLimit?: number;
  /** Multiplies the limit on overload answers and timeouts (every algorithm; aimd also on latency). Default 0.9. */
  backoffRatio?: number;
  /** aimd: a window slower than this is a drop too, whatever the no-load latency. Default: none. */
  timeout?: Duration;
  /** vegas, gradient2: weight of a new estimate (vegas 1, gradient2 0.5). */
  smoothing?: number;
  /** Latency over the no-load latency tolerated (slow start, aimd, gradient2's target), >= 1. Default 1.1. */
  rttTolerance?: number;
  /** gradient2: head room added at each update. Default 0. */
  queueSize?: number;
  /** How often the no-load latency is measured again (+0-15% jitter); 0 never. Default 30 s. */
  probeInterval?: Duration;
  /**
   * Which failures are overload (lower the limit); the rest are left out of what the limit
   * learns. Default: timeouts, 503, 429, 504, BulkheadRejectedError, RateLimitExceededError.
   */
  isOverload?: OverloadPredicate;
}

export interface BulkheadOptions {
  /** Calls running at once (the fixed limit; the cap of an adaptive one). Default 10. */
  maxConcurrent?: number;
  /** Calls that may wait for a slot; 0 rejects at once when full. Default 0. */
  maxQueue?: number;
  /** Longest wait in the queue. Seconds or a string with a unit. Default 1 s. */
  queueTimeout?: Duration;
  /** Find the limit from latency instead of fixing it. */
  adaptive?: AdaptiveLimitOptions;
  /** @deprecated `adaptive.isOverload` (which also gets the latency). Used when that is not set. */
  isDrop?: (error: unknown) => boolean;
  /** false: a pass-through bulkhead. */
  enabled?: boolean;
  clock?: Clock;
  /** The probe jitter; injectable for deterministic tests. */
  random?: () => number;
}

export interface ParsedBulkheadOptions {
  limit: ConcurrencyLimit;
  adaptive: boolean;
  maxQueue: number;
  queueTimeoutMs: number;
  isOverload: OverloadPredicate;
}

/** Settings of earlier versions that no longer mean anything, with what replaced them. */
const REMOVED: Record<string, string> = {
  probeMultiplier: 'use adaptive.probeInterval (a duration) to re-measure the no-load latency',
  longWindow: 'gradient2 now measures against the no-load latency (adaptive.rttTolerance sets its target)',
};

function count(value: number | undefined, fallback: number, what: string, min: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${n}`);
  return n;
}

function ratio(value: number | undefined, fallback: number, what: string, min: number, max: number): number {
  const n = value ?? fallback;
  if (!(n >= min && n <= max)) throw new RangeError(`${what} must be in [${min}, ${max}], got ${n}`);
  return n;
}

/** Validates and fills the options; a RangeError names the bad one. */
export function bulkheadSettings(options: BulkheadOptions): ParsedBulkheadOptions {
  const maxQueue = count(options.maxQueue, 0, 'maxQueue', 0);
  const queueTimeoutMs = toMilliseconds(options.queueTimeout ?? 1, 'queueTimeout');
  if (maxQueue > 0 && !(queueTimeoutMs > 0)) {
    throw new RangeError(`queueTimeout must be > 0 when maxQueue is ${maxQueue}`);
  }
  const adaptive = options.adaptive;
  const isDrop = options.isDrop;
  const isOverload = adaptive?.isOverload ?? (isDrop ? (error: unknown) => isDrop(error) : isOverloadByDefault);
  if (!adaptive) {
    const limit = new FixedLimit(count(options.maxConcurrent, 10, 'maxConcurrent', 1));
    return { limit, adaptive: false, maxQueue, queueTimeoutMs, isOverload };
  }
  for (const key of Object.keys(REMOVED)) {
    if (key in adaptive) throw new RangeError(`adaptive.${key} was removed: ${REMOVED[key]}`);
  }
  const maxLimit = count(adaptive.maxLimit, options.maxConcurrent ?? 200, 'adaptive.maxLimit', 1);
  const minLimit = count(adaptive.minLimit, 1, 'adaptive.minLimit', 1);
  const initialLimit = count(adaptive.initialLimit, Math.min(20, maxLimit), 'adaptive.initialLimit', 1);
  if (!(minLimit <= initialLimit && initialLimit <= maxLimit)) {
    throw new RangeError(
      `adaptive limits must satisfy minLimit <= initialLimit <= maxLimit, got ${minLimit} <= ${initialLimit} <= ${maxLimit}`,
    );
  }
  const rttTolerance = ratio(adaptive.rttTolerance, 1.1, 'adaptive.rttTolerance', 1, 10);
  const backoffRatio = ratio(adaptive.backoffRatio, 0.9, 'adaptive.backoffRatio', 0.5, 0.99);
  const limit = new AdaptiveLimit({
    initialLimit,
    minLimit,
    maxLimit,
    law: adaptiveLaw(adaptive, rttTolerance, backoffRatio),
    rttTolerance,
    backoffRatio,
    probeIntervalMs: toMilliseconds(adaptive.probeInterval ?? 30, 'adaptive.probeInterval'),
    probeSamples: Math.max(20, adaptive.minSamples ?? 10),
    minWindowMs: adaptive.minWindowMs,
    maxWindowMs: adaptive.maxWindowMs,
    minSamples: adaptive.minSamples,
    random: options.random ?? Math.random,
  });
  return { limit, adaptive: true, maxQueue, queueTimeoutMs, isOverload };
}

function adaptiveLaw(adaptive: AdaptiveLimitOptions, rttTolerance: number, backoffRatio: number): LimitLaw {
  switch (adaptive.algorithm) {
    case 'aimd': {
      const timeoutMs =
        adaptive.timeout !== undefined ? toMilliseconds(adaptive.timeout, 'adaptive.timeout') : undefined;
      return aimdLaw({ rttTolerance, backoffRatio, timeoutMs });
    }
    case 'vegas':
      return vegasLaw({ smoothing: ratio(adaptive.smoothing, 1, 'adaptive.smoothing', 0.01, 1) });
    case 'gradient2':
      return gradient2Law({
        rttTolerance,
        smoothing: ratio(adaptive.smoothing, 0.5, 'adaptive.smoothing', 0.01, 1),
        queueSize: count(adaptive.queueSize, 0, 'adaptive.queueSize', 0),
      });
    default:
      throw new RangeError(
        `adaptive.algorithm must be one of ${ADAPTIVE_ALGORITHMS.join(', ')}, got ${String((adaptive as { algorithm: unknown }).algorithm)}`,
      );
  }
}
