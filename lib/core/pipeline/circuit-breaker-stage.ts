import type { CircuitBreakerPolicy } from '../circuit-breaker/circuit-breaker.js';
import type { CallContext } from '../circuit-breaker/types.js';
import type { ResilienceContext } from './context.js';
import type { Stage } from './stage.js';

/**
 * Runs the call through `breaker`; a call it turns away gets `rejectedBy: 'circuit_open'`.
 * Known at once: the breaker runs an admitted call before execute returns, and the
 * admitted path clears the mark set just before.
 */
export function circuitBreakerStage(breaker: CircuitBreakerPolicy): Stage {
  return {
    kind: 'circuit_breaker',
    failures: breaker.hasFallback ? 'may-recover' : 'reports-own',
    wrap(next, hooks) {
      const report = hooks.finalFailure;
      // Shared by every call (the context rides as the breaker's state): no closure per call.
      const admitted = breaker.hasCallTimeout
        ? (call: CallContext, context: ResilienceContext) => {
            context.rejectedBy = undefined;
            const timeout = call.signal;
            if (timeout) context.signal = context.signal ? AbortSignal.any([context.signal, timeout]) : timeout;
            return next(context);
          }
        : (_call: CallContext, context: ResilienceContext) => {
            context.rejectedBy = undefined;
            return next(context);
          };
      return (context) => {
        context.rejectedBy = 'circuit_open';
        const promise = breaker.execute(admitted, context, context.criticality);
        if (context.rejectedBy !== 'circuit_open' || !report) return promise;
        return promise.then(undefined, (error: unknown) => report(error, context).then(() => Promise.reject(error)));
      };
    },
  };
}
