import type { Clock } from '../clock.js';
import { type Duration, toMilliseconds } from '../duration.js';
import { countsAsFailureByDefault } from '../error-matchers.js';
import { AimdLimit, type ConcurrencyLimit, FixedLimit, Gradient2Limit, VegasLimit } from './limits.js';
import type { SampleWindowOptions } from './sample-window.js';

export const ADAPTIVE_ALGORITHMS = ['aimd', 'vegas', 'gradient2'] as const;
export type AdaptiveAlgorithm = (typeof ADAPTIVE_ALGORITHMS)[number];

/**
 * An adaptive limit: found from observed latency and drops, within [minLimit, maxLimit].
 * Completed calls are gathered in windows (see SampleWindow) and each window moves the limit once.
 */
export interface AdaptiveLimitOptions extends SampleWindowOptions {
  algorithm: AdaptiveAlgorithm;
  /** Default: 20, or maxLimit if lower. */
  initialLimit?: number;
  /** Default 1. */
  minLimit?: number;
  /** Default: `maxConcurrent` when set, else 200. */
  maxLimit?: number;
  /** aimd: multiplies the limit on a drop. Default 0.9. */
  backoffRatio?: number;
  /** aimd: a call slower than this is a drop. Default 5 s. */
  timeout?: Duration;
  /** vegas, gradient2: weight of a new estimate (vegas 1, gradient2 0.2). */
  smoothing?: number;
  /** vegas: re-measure the no-load latency every about this many x limit calls; 0 never. Default 30. */
  probeMultiplier?: number;
  /** gradient2: latency growth tolerated over the long-term average. Default 1.5. */
  rttTolerance?: number;
  /** gradient2: samples in the long-term average. Default 600. */
  longWindow?: number;
  /** gradient2: head room added at each update. Default 4. */
  queueSize?: number;
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
  /** Which failures are drops for an adaptive limit. Default: timeouts and what a breaker counts. */
  isDrop?: (error: unknown) => boolean;
  /** false: a pass-through bulkhead. */
  enabled?: boolean;
  clock?: Clock;
  /** Vegas's probe jitter; injectable for deterministic tests. */
  random?: () => number;
}

export interface ParsedBulkheadOptions {
  limit: ConcurrencyLimit;
  adaptive: boolean;
  maxQueue: number;
  queueTimeoutMs: number;
  isDrop: (error: unknown) => boolean;
}

function count(value: number | undefined, fallback: number, what: string, min: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${n}`);
  return n;
}

/** Validates and fills the options; a RangeError names the bad one. */
export function bulkheadSettings(options: BulkheadOptions): ParsedBulkheadOptions {
  const maxQueue = count(options.maxQueue, 0, 'maxQueue', 0);
  const queueTimeoutMs = toMilliseconds(options.queueTimeout ?? 1, 'queueTimeout');
  if (maxQueue > 0 && !(queueTimeoutMs > 0)) {
    throw new RangeError(`queueTimeout must be > 0 when maxQueue is ${maxQueue}`);
  }
  // Timeouts and what a breaker counts (network errors, 5xx, 408, 429); not a client's 4xx.
  const isDrop = options.isDrop ?? countsAsFailureByDefault;
  const adaptive = options.adaptive;
  if (!adaptive) {
    return {
      limit: new FixedLimit(count(options.maxConcurrent, 10, 'maxConcurrent', 1)),
      adaptive: false,
      maxQueue,
      queueTimeoutMs,
      isDrop,
    };
  }
  const maxLimit = count(adaptive.maxLimit, options.maxConcurrent ?? 200, 'adaptive.maxLimit', 1);
  const minLimit = count(adaptive.minLimit, 1, 'adaptive.minLimit', 1);
  const initialLimit = count(adaptive.initialLimit, Math.min(20, maxLimit), 'adaptive.initialLimit', 1);
  if (!(minLimit <= initialLimit && initialLimit <= maxLimit)) {
    throw new RangeError(
      `adaptive limits must satisfy minLimit <= initialLimit <= maxLimit, got ${minLimit} <= ${initialLimit} <= ${maxLimit}`,
    );
  }
  const bounds = { initialLimit, minLimit, maxLimit };
  return { limit: adaptiveLimit(adaptive, bounds, options.random), adaptive: true, maxQueue, queueTimeoutMs, isDrop };
}

function adaptiveLimit(
  adaptive: AdaptiveLimitOptions,
  bounds: { initialLimit: number; minLimit: number; maxLimit: number },
  random?: () => number,
): ConcurrencyLimit {
  switch (adaptive.algorithm) {
    case 'aimd': {
      const timeoutMs =
        adaptive.timeout !== undefined ? toMilliseconds(adaptive.timeout, 'adaptive.timeout') : undefined;
      const { backoffRatio } = adaptive;
      if (backoffRatio !== undefined && !(backoffRatio >= 0.5 && backoffRatio < 1)) {
        throw new RangeError(`adaptive.backoffRatio must be in [0.5, 1), got ${backoffRatio}`);
      }
      return new AimdLimit({ ...bounds, backoffRatio, timeoutMs });
    }
    case 'vegas':
      return new VegasLimit({
        ...bounds,
        smoothing: adaptive.smoothing,
        probeMultiplier: adaptive.probeMultiplier,
        random,
      });
    case 'gradient2':
      if (adaptive.rttTolerance !== undefined && !(adaptive.rttTolerance >= 1)) {
        throw new RangeError(`adaptive.rttTolerance must be >= 1, got ${adaptive.rttTolerance}`);
      }
      return new Gradient2Limit({
        ...bounds,
        smoothing: adaptive.smoothing,
        rttTolerance: adaptive.rttTolerance,
        longWindow: adaptive.longWindow,
        queueSize: adaptive.queueSize,
      });
    default:
      throw new RangeError(
        `adaptive.algorithm must be one of ${ADAPTIVE_ALGORITHMS.join(', ')}, got ${String((adaptive as { algorithm: unknown }).algorithm)}`,
      );
  }
}
