import type { BulkheadSettings, RateSettings, TimeoutSettings } from '../../config/types.js';
import type { ErrorMatcher } from '../../core/error-matchers.js';
import type { FallbackHandler } from '../../core/pipeline/fallback-stage.js';
import type { RateLimitKeyContext } from '../context/rate-limit-key.js';

// The options of the decorators that add fields to their pattern's settings: apart from the
// decorators, so the method metadata can name them without importing the decorators.

export interface RateLimitOptions extends Omit<RateSettings, 'keyFunc'> {
  /** The limiter: a `rateLimiters` entry, a configured service, or a preset (stripe...). Default: the class's service. */
  name?: string;
  /** Builds the key of a call (the guide's key_func); `key` picks a built-in one instead. */
  keyFunc?: (context: RateLimitKeyContext) => string | undefined;
  /** One limiter per tier, chosen per call (the guide's free / basic / premium / enterprise). */
  tiers?: Record<string, RateSettings | string>;
  /** The tier of a call; unknown or undefined picks the first tier. */
  tier?: (context: RateLimitKeyContext) => string | undefined;
  /** What a call costs. Default 1. */
  cost?: number | ((context: RateLimitKeyContext) => number);
  /**
   * Put this limiter's verdict in the response's RateLimit headers. Default: only when the
   * decorated method is the route handler itself (a limiter on a service method the
   * handler calls stays out of the headers unless it opts in).
   */
  responseHeaders?: boolean;
}

export interface BulkheadDecoratorOptions extends BulkheadSettings {
  /** The bulkhead's name (default: the class name, so the methods of one service share its slots). */
  name?: string;
}

/** `@Timeout` options: the timeout's settings (see timeoutSchema). */
export interface TimeoutDecoratorOptions extends TimeoutSettings {}

/** `@Fallback` options: a handler or a value, and which errors it answers for. */
export interface FallbackDecoratorOptions {
  /** `(error, args) => result`: what the call returns instead (a promise is awaited). */
  handler?: FallbackHandler;
  /** The call's result instead, whatever the error (when there is no handler). */
  value?: unknown;
  /** Which errors it answers for (names, families, classes, predicates). Default: every error. */
  handle?: ErrorMatcher | readonly ErrorMatcher[];
}
