import type { RetryPolicy } from '../retry/retry-policy.js';
import type { ResilienceContext } from './context.js';
import type { FailureObserver, Stage } from './stage.js';

export interface RetryStageOptions {
  /**
   * Runs each attempt (1 for the first) through `run`: e.g. a tracing span per attempt.
   * Absent, attempts run as they are (nothing is added to the call path).
   */
  aroundAttempt?: (attempt: number, run: () => Promise<unknown>, context: ResilienceContext) => Promise<unknown>;
}

/** Runs the stages inside it (the operation, by default) again as `policy` says. */
export function retryStage(policy: RetryPolicy, options: RetryStageOptions = {}): Stage {
  const { aroundAttempt } = options;
  return {
    kind: 'retry',
    // Every failure leaving a retry passes its give-up point.
    failures: 'reports-all',
    wrap(next, hooks) {
      const report = hooks.finalFailure;
      const record = hooks.recordAttempts;
      // Shared by every call (the context rides as the policy's state): no closure per call.
      const attempt = aroundAttempt
        ? (current: { attempt: number }, context: ResilienceContext) =>
            aroundAttempt(current.attempt, () => next(context), context)
        : (_attempt: unknown, context: ResilienceContext) => next(context);
      const giveUp = report
        ? (error: unknown, _attempts: number, context: ResilienceContext) => (report as FailureObserver)(error, context)
        : undefined;
      // One literal per call, every field in it (adding fields one by one made V8 pretenure
      // these objects into old space: a major GC every few hundred thousand calls).
      return (context) => {
        if (record && !context.attempts) context.attempts = [];
        return policy.execute(attempt, {
          signal: context.signal,
          attempts: context.attempts,
          beforeGiveUp: giveUp,
          state: context,
          deadlineAt: context.deadline,
        });
      };
    },
  };
}
