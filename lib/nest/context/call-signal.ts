import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallContext } from '../../core/circuit-breaker/types.js';
import type { Criticality } from '../../core/criticality.js';

/** What the decorated call running now was given: its signal, and its deadline (monotonic ms). */
export interface CallScope extends CallContext {
  deadline?: number;
  criticality?: Criticality;
}

/** The decorated call running now (set only when it has a signal or a deadline). */
export const callSignalScope = new AsyncLocalStorage<CallScope>();

/**
 * The AbortSignal of the decorated call running now: aborted when the breaker's
 * `callTimeout` passes, so the method can stop its work (`fetch(url, { signal })`).
 * Undefined outside a decorated call, or when its breaker has no callTimeout. Read it in
 * the method itself: it follows the call through awaits (AsyncLocalStorage).
 */
export function currentCallSignal(): AbortSignal | undefined {
  return callSignalScope.getStore()?.signal;
}
