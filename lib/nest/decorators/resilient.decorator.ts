import type { PatternSettings } from '../../config/types.js';
import type { RateLimitKeyContext } from '../context/rate-limit-key.js';
import { getResilienceMetadata, type ResilienceMethodMetadata } from '../metadata.js';
import { isDeclaredSynchronous, isNestHandler } from './synchronous-methods.js';
import { applyResilienceDecorator } from './wrap-method.js';

export interface ResilientOptions extends PatternSettings {
  /** Replaces the service's configured tier (critical, standard, non_critical, or a custom one). */
  tier?: string;
  /** The key that keeps a caller on one arm of a rollout (default: the service's rate-limit key). */
  rolloutKey?: (context: RateLimitKeyContext) => string | undefined;
}

/**
 * The guide's full stack for a named service, outside in: rate limiter, dead letter,
 * circuit breaker, retry, operation (the dead letter sits outside the breaker and the
 * retries, so a call is kept once, after its last attempt or its rejection). Settings are the service's (its tier and
 * `services.<name>` entry in the configuration); `tier` and pattern settings here go on top.
 * `@Resilient('payment_gateway', { tier: 'critical' })` is the guide's
 * `ResilientService('payment_gateway', tier='critical')`.
 */
export function Resilient(name: string, options: ResilientOptions = {}): MethodDecorator & ClassDecorator {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('@Resilient needs a service name');
  const { tier, rolloutKey, ...overrides } = options;
  const patch = { resilient: { name, tier, overrides, rolloutKey } };
  return ((target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (propertyKey === undefined) {
      applyToClass(target as new (...args: never[]) => unknown, patch);
      return;
    }
    return applyResilienceDecorator(target, propertyKey, descriptor as PropertyDescriptor, patch);
  }) as MethodDecorator & ClassDecorator;
}

/**
 * On a class: every handler (for a controller, its routes; for a provider, every method)
 * gets the stack, except methods with a @Resilient of their own and methods declared to
 * return a plain value (helpers).
 */
function applyToClass(
  target: new (...args: never[]) => unknown,
  patch: { resilient: ResilienceMethodMetadata['resilient'] },
): void {
  const prototype = target.prototype as Record<string, unknown>;
  const names = Object.getOwnPropertyNames(prototype).filter((n) => {
    const d = Object.getOwnPropertyDescriptor(prototype, n);
    return n !== 'constructor' && typeof d?.value === 'function';
  });
  const handlers = names.filter((n) => isNestHandler(prototype[n]));
  for (const name of handlers.length > 0 ? handlers : names) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name) as PropertyDescriptor;
    if (getResilienceMetadata(descriptor.value)?.resilient) continue;
    // A helper declared to return a plain value is not a call to a dependency: left as it is.
    if (
      !isNestHandler(descriptor.value) &&
      isDeclaredSynchronous(Reflect.getMetadata('design:returntype', prototype, name))
    )
      continue;
    Object.defineProperty(prototype, name, applyResilienceDecorator(prototype, name, descriptor, patch));
  }
}
