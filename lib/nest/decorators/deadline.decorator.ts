import type { Deadline as QueuedDeadline } from '../../core/deadline-queue.js';
import type { Duration } from '../../core/duration.js';
import { applyResilienceDecorator } from './wrap-method.js';

/**
 * Gives the call a deadline of its own (a duration from when it starts); a caller's earlier
 * deadline (request headers) still wins. When it passes the call fails with
 * DeadlineExceededError (HTTP 504), its signal aborts, and no retry or hedge starts that could
 * not finish before it. `resilientFetch` passes what is left of it to the next service.
 */
export function Deadline(duration: Duration): MethodDecorator {
  if (typeof duration !== 'number' && typeof duration !== 'string') {
    throw new TypeError('@Deadline needs a duration: seconds, or a string with a unit ("200ms")');
  }
  return (target, propertyKey, descriptor) =>
    applyResilienceDecorator(target, propertyKey, descriptor, { deadline: { duration } });
}

/**
 * The core's `Deadline` (one pending deadline of a DeadlineQueue), under the same name as the
 * decorator: the package's root exports both, as `nest-resilience/core` exports the type.
 */
export interface Deadline extends QueuedDeadline {}
