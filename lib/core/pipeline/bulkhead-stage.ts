import type { BulkheadPolicy } from '../bulkhead/bulkhead.js';
import { BulkheadRejectedError } from '../errors.js';
import type { ResilienceContext } from './context.js';
import type { Stage } from './stage.js';

/**
 * Runs each attempt in a slot of `bulkhead` (innermost: a retry waiting in backoff holds
 * no slot). An attempt it turns away gets `rejectedBy: 'bulkhead_rejected'`, cleared when a
 * later attempt is admitted, so a letter names the bulkhead only if it refused the last one.
 * A call waiting in the queue leaves it when the call's signal aborts.
 */
export function bulkheadStage(bulkhead: BulkheadPolicy): Stage {
  return {
    kind: 'bulkhead',
    failures: 'reports-own',
    wrap(next, hooks) {
      const report = hooks.finalFailure;
      // Shared by every call (the context rides as the bulkhead's state): no closure per call.
      const admitted = (context: ResilienceContext) => {
        if (context.rejectedBy === 'bulkhead_rejected') context.rejectedBy = undefined;
        return next(context);
      };
      const refused = (error: unknown, context: ResilienceContext): Promise<never> => {
        // Never admitted: turned away (full, queue timeout), or its signal aborted while queued.
        if (!(error instanceof BulkheadRejectedError)) context.rejectedBy = undefined;
        else if (report) return report(error, context).then(() => Promise.reject(error));
        return Promise.reject(error);
      };
      return (context) => {
        context.rejectedBy = 'bulkhead_rejected';
        const promise = bulkhead.execute(admitted, context, context.signal, context.criticality);
        // Admitted at once: `admitted` ran and cleared the mark; failures from inside pass as they are.
        if (context.rejectedBy !== 'bulkhead_rejected') return promise;
        return promise.then(undefined, (error: unknown) =>
          context.rejectedBy === 'bulkhead_rejected' ? refused(error, context) : Promise.reject(error),
        );
      };
    },
  };
}
