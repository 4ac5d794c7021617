import type { RateSettings } from '../../config/types.js';
import type { RateLimitKeyContext } from '../context/rate-limit-key.js';
import { applyResilienceDecorator } from './wrap-method.js';

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

/**
 * Rate-limits the method. With no options, the class's service settings apply (its
 * tier's `rate`, `per`, `burst`, and `key`). A denial throws RateLimitExceededError,
 * which a controller answers with 429, Retry-After and the RateLimit headers.
 */
export function RateLimit(options?: RateLimitOptions): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { rate: { options } });
}
