import { CRITICALITIES, type Criticality as CriticalityLevel, parseCriticality } from '../../core/criticality.js';
import { applyResilienceDecorator } from './wrap-method.js';

/** The core's criticality classes, under the decorator's name (the package's root exports both). */
export type Criticality = CriticalityLevel;

/**
 * How much this method's calls matter under overload: a saturated bulkhead serves
 * `critical_plus` first, then `critical` (the class of unclassed calls), `sheddable_plus`,
 * `sheddable`, and turns the least important away first. It wins over a caller's
 * `x-request-criticality` header, and is passed on by `resilientFetch`.
 */
export function Criticality(level: CriticalityLevel): MethodDecorator {
  const parsed = parseCriticality(level);
  if (!parsed) throw new TypeError(`@Criticality: "${String(level)}" is not one of ${CRITICALITIES.join(', ')}`);
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { criticality: { level: parsed } });
}
