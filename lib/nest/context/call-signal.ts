import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallContext } from '../../core/circuit-breaker/types.js';

/** The breaker's context of the decorated call running now (set only for breakers with a callTimeout). */
export const callSignalScope = new AsyncLocalStorage<CallContext>();

/**
 * The AbortSignal of the decorated call running now: aborted when the breaker's
 * `callTimeout` passes, so the method can stop its work (`fetch(url, { signal })`).
 * Undefined outside a decorated call, or when its breaker has no callTimeout. Read it in
 * the method itself: it follows the call through awaits (AsyncLocalStorage).
 */
export function currentCallSignal(): AbortSignal | undefined {
  return callSignalScope.getStore()?.signal;
}
