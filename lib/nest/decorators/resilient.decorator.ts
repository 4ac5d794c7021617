import type { PatternSettings } from '../../config/types.js';
import { applyResilienceDecorator } from './wrap-method.js';

export interface ResilientOptions extends PatternSettings {
  /** Replaces the service's configured tier (critical, standard, non_critical, or a custom one). */
  tier?: string;
}

/**
 * The guide's full stack for a named service, in its order: rate limiter, circuit
 * breaker, retry, dead letter, operation. Settings are the service's (its tier and
 * `services.<name>` entry in the configuration); `tier` and pattern settings here go on top.
 * `@Resilient('payment_gateway', { tier: 'critical' })` is the guide's
 * `ResilientService('payment_gateway', tier='critical')`.
 */
export function Resilient(name: string, options: ResilientOptions = {}): MethodDecorator {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('@Resilient needs a service name');
  const { tier, ...overrides } = options;
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { resilient: { name, tier, overrides } });
}
