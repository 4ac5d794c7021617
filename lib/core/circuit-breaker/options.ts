import { toMilliseconds } from '../duration.js';
import { countsAsFailureByDefault, errorPredicate } from '../error-matchers.js';
import { BulkheadRejectedError } from '../errors.js';
import type { CircuitBreakerOptions } from './types.js';
import { CountWindow, type OutcomeWindow, TimeWindow } from './window.js';

/** A breaker's options, checked and in milliseconds. */
export interface BreakerSettings {
  /** Consecutive failures that open; Infinity in rate mode unless set (no consecutive rule). */
  failureThreshold: number;
  successThreshold: number;
  openMs: number;
  maxOpenMs: number;
  timeoutMultiplier: number;
  halfOpenMaxCalls: number;
  trialLeaseMs: number;
  minimumCalls: number;
  failureRate?: number;
  slowRate?: number;
  slowMs?: number;
  callTimeoutMs?: number;
  isFailure: (error: unknown) => boolean;
  window?: OutcomeWindow;
}

function positiveInt(value: number | undefined, fallback: number, what: string, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** A rate threshold: the breaker opens *above* it, so 100 could never be exceeded and never open it. */
function percentage(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(value > 0 && value < 100)) {
    throw new RangeError(
      `${what} must be > 0 and < 100, got ${value}${value === 100 ? ' (the breaker opens above the threshold: at 100 it never would)' : ''}`,
    );
  }
  return value;
}

/** Checks `options` (throws a RangeError naming the first bad one) and fills in the defaults. */
export function breakerSettings(options: CircuitBreakerOptions): BreakerSettings {
  const failureRate = percentage(options.failureRateThreshold, 'failureRateThreshold');
  const slowRate = percentage(options.slowCallRateThreshold, 'slowCallRateThreshold');
  const rateMode = failureRate !== undefined || slowRate !== undefined;
  // In rate mode the rate decides; consecutive failures open it too only if asked for.
  const failureThreshold =
    rateMode && options.failureThreshold === undefined
      ? Number.POSITIVE_INFINITY
      : positiveInt(options.failureThreshold, 5, 'failureThreshold');
  const openMs = toMilliseconds(options.timeout ?? 60, 'timeout');
  const timeoutMultiplier = options.timeoutMultiplier ?? 1;
  if (!(timeoutMultiplier >= 1)) throw new RangeError(`timeoutMultiplier must be >= 1, got ${timeoutMultiplier}`);
  const trialLeaseMs =
    options.halfOpenTrialTimeout !== undefined
      ? toMilliseconds(options.halfOpenTrialTimeout, 'halfOpenTrialTimeout')
      : openMs;
  if (!(trialLeaseMs > 0)) throw new RangeError(`halfOpenTrialTimeout must be > 0, got ${trialLeaseMs}ms`);
  const slowMs =
    options.slowCallDuration !== undefined ? toMilliseconds(options.slowCallDuration, 'slowCallDuration') : undefined;
  if (slowRate !== undefined && slowMs === undefined)
    throw new RangeError('slowCallRateThreshold needs slowCallDuration');
  const minimumCalls = positiveInt(options.minimumCalls, 10, 'minimumCalls');
  let window: OutcomeWindow | undefined;
  if (rateMode) {
    const type = options.slidingWindowType ?? 'count';
    const size = positiveInt(options.slidingWindowSize, type === 'count' ? 100 : 60, 'slidingWindowSize');
    if (type === 'count' && minimumCalls > size) {
      throw new RangeError(
        `minimumCalls (${minimumCalls}) is greater than slidingWindowSize (${size}): a count window of ${size} calls never holds ${minimumCalls}, so the rate would never be checked`,
      );
    }
    window = options.window ?? (type === 'count' ? new CountWindow(size) : new TimeWindow(size));
  }
  const maxOpenMs = options.maxTimeout !== undefined ? toMilliseconds(options.maxTimeout, 'maxTimeout') : openMs * 10;
  if (maxOpenMs < openMs) {
    throw new RangeError(
      `maxTimeout (${maxOpenMs / 1000}s) must be >= timeout (${openMs / 1000}s): it caps the open time, so the timeout would never be used`,
    );
  }
  return {
    failureThreshold,
    successThreshold: positiveInt(options.successThreshold, 2, 'successThreshold'),
    openMs,
    maxOpenMs,
    timeoutMultiplier,
    halfOpenMaxCalls: positiveInt(options.halfOpenMaxCalls, 1, 'halfOpenMaxCalls'),
    trialLeaseMs,
    minimumCalls,
    failureRate,
    slowRate,
    slowMs,
    callTimeoutMs: options.callTimeout !== undefined ? toMilliseconds(options.callTimeout, 'callTimeout') : undefined,
    isFailure:
      options.isFailure ??
      notOwnShedding(
        options.expectedExceptions?.length ? errorPredicate(options.expectedExceptions) : countsAsFailureByDefault,
      ),
    window,
  };
}

/** A bulkhead's rejection is our own load shedding, not the dependency failing: never counted unless isFailure says so. */
const notOwnShedding =
  (counts: (error: unknown) => boolean) =>
  (error: unknown): boolean =>
    !(error instanceof BulkheadRejectedError) && counts(error);

/**
 * The guide's rule: open at a rate *above* the threshold ("open at >10% error rate"), so
 * 2 failures in 20 calls stay closed at 10 and 3 in 20 open.
 */
export function rateExceeded(count: number, calls: number, thresholdPercent: number | undefined): boolean {
  return thresholdPercent !== undefined && count * 100 > thresholdPercent * calls;
}
