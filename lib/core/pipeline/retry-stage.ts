import type { RetryExecuteOptions, RetryPolicy } from '../retry/retry-policy.js';
import type { Stage } from './stage.js';

/** Runs the stages inside it (the operation, by default) again as `policy` says. */
export function retryStage(policy: RetryPolicy): Stage {
  return {
    kind: 'retry',
    // Every failure leaving a retry passes its give-up point.
    failures: 'reports-all',
    wrap(next, hooks) {
      const report = hooks.finalFailure;
      const record = hooks.recordAttempts;
      if (!report && !record) {
        return (context) =>
          policy.execute(() => next(context), context.signal ? { signal: context.signal } : undefined);
      }
      return (context) => {
        const options: RetryExecuteOptions = { signal: context.signal };
        if (record) options.attempts = context.attempts ??= [];
        if (report) options.beforeGiveUp = (error) => report(error, context);
        return policy.execute(() => next(context), options);
      };
    },
  };
}
