import type { BulkheadOptions } from '../core/bulkhead/options.js';
import type { CircuitBreakerOptions } from '../core/circuit-breaker/types.js';
import type { RateLimiterOptions } from '../core/rate-limiter/rate-limiter.js';
import type { RetryOptions } from '../core/retry/retry-options.js';
import type {
  ResolvedBulkheadSettings,
  ResolvedCircuitSettings,
  ResolvedRateSettings,
  ResolvedRetrySettings,
} from './resolved-types.js';

// The core policies' options a pattern's resolved settings make: one place, read by the app's
// services, `nest-resilience check` and `nest-resilience simulate`, so all three build the same
// policies from the same settings. What is the caller's own (clock, sleep, store, signal) is added
// by each caller.

/** The breaker's own options, and where its state lives (`scope`, `quorum`: the caller's to build). */
export function breakerOptionsOf(resolved: ResolvedCircuitSettings): {
  scope: NonNullable<ResolvedCircuitSettings['scope']>;
  quorum: ResolvedCircuitSettings['quorum'];
  options: CircuitBreakerOptions;
} {
  const { scope = 'local', quorum, ...options } = resolved;
  return { scope, quorum, options };
}

/** A disabled retry is one attempt: the same policy object, so the pipeline keeps its shape. */
export function retryOptionsOf(resolved: ResolvedRetrySettings): RetryOptions {
  const { enabled, ...options } = resolved;
  return { ...options, maxAttempts: enabled ? resolved.maxAttempts : 1 };
}

/** The counting rule and mode are the limiter; keys and validators belong to each stage that uses it. */
export function limiterRule({ rate, per, burst, strategy, mode, maxWait, enabled }: ResolvedRateSettings) {
  return { rate, per, burst, strategy, mode, maxWait, enabled } satisfies RateLimiterOptions;
}

export function bulkheadOptionsOf(resolved: ResolvedBulkheadSettings): BulkheadOptions {
  return { ...resolved };
}
