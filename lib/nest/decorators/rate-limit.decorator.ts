import type { RateLimitOptions } from './decorator-options.js';
import { applyResilienceDecorator } from './wrap-method.js';

export type { RateLimitOptions } from './decorator-options.js';

/**
 * Rate-limits the method. With no options, the class's service settings apply (its
 * tier's `rate`, `per`, `burst`, and `key`). A denial throws RateLimitExceededError,
 * which a controller answers with 429, Retry-After and the RateLimit headers.
 */
export function RateLimit(options?: RateLimitOptions): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { rate: { options } });
}
