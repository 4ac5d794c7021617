import type { DlqSettings } from '../../config/types.js';
import { applyResilienceDecorator } from './wrap-method.js';

/**
 * Dead-letters the method's failed calls: once, after the last attempt (when combined
 * with @Retry), with the arguments and every attempt's error; then rethrows, or swallows
 * with `rethrow: false` (fire-and-forget work such as analytics). The queue defaults to
 * the class's service; `DeadLetterService.replay(queue)` calls the method again.
 */
export function DeadLetter(queue?: string, options?: DlqSettings): MethodDecorator {
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { dlq: { queue, options } });
}
