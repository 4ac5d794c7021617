import type { BulkheadDecoratorOptions } from './decorator-options.js';
import { applyResilienceDecorator } from './wrap-method.js';

export type { BulkheadDecoratorOptions } from './decorator-options.js';

/**
 * Runs each call (each attempt, under @Retry or @Resilient) in a slot of the named bulkhead:
 * at most `maxConcurrent` at once, `maxQueue` waiting up to `queueTimeout`, the rest turned
 * away with BulkheadRejectedError (HTTP 503 with Retry-After). Settings come from the
 * service's tier and entry; `options` go on top. The decorator turns the bulkhead on.
 */
export function Bulkhead(options: BulkheadDecoratorOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { bulkhead: { options } });
}
