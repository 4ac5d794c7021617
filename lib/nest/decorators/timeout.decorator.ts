import type { Duration } from '../../core/duration.js';
import type { TimeoutDecoratorOptions } from './decorator-options.js';
import { applyResilienceDecorator } from './wrap-method.js';

export type { TimeoutDecoratorOptions } from './decorator-options.js';

/**
 * Bounds each call (or each attempt, with `per: 'attempt'`) by `timeout`: the method's
 * operation gets an AbortSignal (`currentCallSignal()`; pass it to fetch or axios and the
 * request is cancelled at the socket) that aborts with TimeoutError when the time is up, and
 * the call fails with it then (HTTP 504). A duration alone is `{ timeout }`. Settings from the
 * service's tier and entry apply below; the decorator turns the timeout on.
 */
export function Timeout(options: Duration | TimeoutDecoratorOptions): MethodDecorator {
  const own = typeof options === 'object' && options !== null ? options : { timeout: options };
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { timeout: { options: own } });
}
