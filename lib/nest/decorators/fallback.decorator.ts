import type { FallbackHandler } from '../../core/pipeline/fallback-stage.js';
import { fallbackPattern } from '../descriptors/fallback.js';
import type { FallbackDecoratorOptions } from './decorator-options.js';

export type { FallbackDecoratorOptions } from './decorator-options.js';

/**
 * Answers for a failed call: `handler(error, args)`'s result (or `value`) becomes the call's
 * result. It is outermost: it answers for refusals (429, 503), timeouts and failures after the
 * retries, once the call's dead letter was kept; `handle` narrows which errors (names,
 * families, classes, predicates; default every error). A handler that fails reaches the
 * caller as itself, with the call's error as its `cause`.
 */
export function Fallback(options: FallbackHandler | FallbackDecoratorOptions): MethodDecorator {
  const own = typeof options === 'function' ? { handler: options } : options;
  if (own === null || typeof own !== 'object' || (own.handler === undefined && !('value' in own))) {
    throw new TypeError('@Fallback needs a handler function, { handler } or { value }');
  }
  if (own.handler !== undefined && 'value' in own) {
    throw new TypeError('@Fallback takes a handler or a value, not both');
  }
  return fallbackPattern.decorator(own);
}
