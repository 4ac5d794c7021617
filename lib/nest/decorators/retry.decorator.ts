import type { RetryCallOptions } from '../services/retry.service.js';
import { applyResilienceDecorator } from './wrap-method.js';

/**
 * Retries the method. With no options, the settings are those of the class's service
 * (its tier and entry in the configuration); a string names a preset (`'network'`).
 * Metrics label it `Class.method` unless `operation` says otherwise.
 */
export function Retry(options?: RetryCallOptions | string): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { retry: { options } });
}
