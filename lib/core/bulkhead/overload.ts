import { hasName, httpStatusOf, isTimeout } from '../error-matchers.js';

/**
 * Whether a failed call says the dependency is overloaded (`latencyMs`: how long it took).
 * True lowers an adaptive limit; false leaves the call out of what the limit learns.
 */
export type OverloadPredicate = (error: unknown, latencyMs: number) => boolean;

/** What a completed call tells an adaptive limit. */
export type CallOutcome =
  /** It succeeded: its latency is a sample. */
  | 'success'
  /** It failed for a reason that says nothing of load (a fast 500, a 4xx, a business error): left out. */
  | 'ignored'
  /** The dependency said it is overloaded (503, 429, a rejection by a limiter or bulkhead). */
  | 'overload'
  /** It timed out. */
  | 'timeout';

/** 503 (unavailable), 429 (too many requests), 504 (a gateway timed out waiting for it). */
const OVERLOAD_STATUSES = new Set([503, 429, 504]);

/**
 * The default: timeouts (ours, AbortSignal.timeout's, socket and undici timeouts, axios's),
 * the dependency's explicit overload answers (HTTP 503, 429, 504) and another layer's load
 * shedding (BulkheadRejectedError, RateLimitExceededError). A fast 500, a client error or a
 * business error is not overload: an adaptive limit that shrank on them would shed a
 * healthy dependency's traffic (1% background errors once cut served traffic by 89%).
 */
export const isOverloadByDefault: OverloadPredicate = (error) =>
  isTimeout(error) ||
  OVERLOAD_STATUSES.has(httpStatusOf(error) ?? 0) ||
  hasName(error, 'BulkheadRejectedError') ||
  hasName(error, 'RateLimitExceededError');

/** Sorts a failed call into 'timeout', 'overload' or 'ignored' with the given predicate. */
export function failureOutcome(isOverload: OverloadPredicate, error: unknown, latencyMs: number): CallOutcome {
  let overloaded: boolean;
  try {
    overloaded = isOverload(error, latencyMs) === true;
  } catch (thrown) {
    // A predicate that throws must not turn the call's own error into another one.
    process.emitWarning(`nest-resilience: adaptive.isOverload threw: ${(thrown as Error)?.message ?? thrown}`);
    return 'ignored';
  }
  if (!overloaded) return 'ignored';
  return isTimeout(error) ? 'timeout' : 'overload';
}
