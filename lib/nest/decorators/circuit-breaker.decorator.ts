import type { CircuitSettings } from '../../config/types.js';
import { applyResilienceDecorator } from './wrap-method.js';

/**
 * Runs the method through the named circuit breaker (default: the class name, so the
 * methods of one service share one breaker, as the guide asks). Settings come from the
 * service's entry and tier in the configuration; `options` go on top.
 */
export function CircuitBreaker(name?: string, options?: CircuitSettings): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { circuit: { name, options } });
}
