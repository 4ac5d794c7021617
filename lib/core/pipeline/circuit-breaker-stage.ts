import type { CircuitBreakerPolicy } from '../circuit-breaker/circuit-breaker.js';
import type { CallContext } from '../circuit-breaker/types.js';
import type { ResilienceContext } from './context.js';
import type { Stage } from './stage.js';

/** The call's signal joined with the breaker's own (aborted at its callTimeout). */
function joinSignal(context: ResilienceContext, call: CallContext): void {
  const timeout = call.signal;
  if (!timeout) return;
  context.signal = context.signal ? AbortSignal.any([context.signal, timeout]) : timeout;
}

/**
 * Runs the call through `breaker`; a call it turns away gets `rejectedBy: 'circuit_open'`
 * (known at once: the breaker runs an admitted call before execute returns).
 */
export function circuitBreakerStage(breaker: CircuitBreakerPolicy): Stage {
  return {
    kind: 'circuit_breaker',
    failures: breaker.hasFallback ? 'may-recover' : 'reports-own',
    wrap(next, hooks) {
      const report = hooks.finalFailure;
      const timed = breaker.hasCallTimeout;
      return (context) => {
        let admitted = false;
        const promise = breaker.execute(
          timed
            ? (call) => {
                admitted = true;
                joinSignal(context, call);
                return next(context);
              }
            : () => {
                admitted = true;
                return next(context);
              },
        );
        if (admitted) return promise;
        context.rejectedBy = 'circuit_open';
        if (!report) return promise;
        return promise.then(undefined, (error: unknown) => report(error, context).then(() => Promise.reject(error)));
      };
    },
  };
}
