import { type Clock, systemClock } from '../clock.js';
import type { Criticality } from '../criticality.js';
import { DeadlineExceededError } from '../errors.js';
import type { ResilienceContext } from '../pipeline/context.js';
import { runNext, type Stage } from '../pipeline/stage.js';

export interface DeadlineStageOptions {
  /**
   * The call's deadline on `clock`'s time, or undefined for none; called once per call (read the
   * clock only for a deadline of the call's own: a call with none must not pay for a clock read).
   * The stage writes it to `context.deadline` (the earliest of this and one already there).
   */
  deadlineOf?: (context: ResilienceContext, clock: Clock) => number | undefined;
  /** The call's criticality (the caller's class), written to `context.criticality` when the context has none. */
  criticalityOf?: (context: ResilienceContext) => Criticality | undefined;
  clock?: Clock;
  /** Told of each call refused or stopped at its deadline (metrics). */
  onExceeded?: (error: DeadlineExceededError, context: ResilienceContext) => void;
}

/**
 * Stops the work of a caller that gave up: a call whose deadline (`context.deadline`, or
 * `deadlineOf`'s) has passed is refused before anything runs; one that reaches it is failed
 * then with DeadlineExceededError and its operation's signal aborts with that error (a
 * timer per call that has a deadline; none for the others). The stages inside read
 * `context.deadline`: a retry or a hedge that cannot finish before it does not start.
 */
export function deadlineStage(options: DeadlineStageOptions = {}): Stage {
  const clock = options.clock ?? systemClock;
  const { deadlineOf, criticalityOf, onExceeded } = options;
  return {
    kind: 'deadline',
    failures: 'reports-own',
    wrap(next, hooks) {
      const report = hooks.finalFailure;
      const exceeded = (error: DeadlineExceededError, context: ResilienceContext): Promise<never> => {
        onExceeded?.(error, context);
        const failed = Promise.reject(error);
        return report ? report(error, context).then(() => failed) : failed;
      };
      return (context) => {
        if (criticalityOf && context.criticality === undefined) context.criticality = criticalityOf(context);
        const own = deadlineOf?.(context, clock);
        const deadline =
          own === undefined ? context.deadline : context.deadline === undefined ? own : Math.min(own, context.deadline);
        if (deadline === undefined) return next(context);
        context.deadline = deadline;
        const now = clock.now();
        if (deadline <= now) {
          context.rejectedBy = 'deadline_exceeded';
          return exceeded(new DeadlineExceededError(now - deadline), context);
        }
        return new Promise((resolve, reject) => {
          const controller = new AbortController();
          const outer = context.signal;
          context.signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
          let settled = false;
          const fire = () => {
            if (settled) return;
            settled = true;
            const error = new DeadlineExceededError();
            controller.abort(error);
            exceeded(error, context).then(resolve, reject);
          };
          const timer = clock.timers ? clock.timers.setTimeout(fire, deadline - now) : setTimeout(fire, deadline - now);
          const done = (ok: boolean, outcome: unknown) => {
            if (settled) return;
            settled = true;
            if (clock.timers) clock.timers.clearTimeout(timer);
            else clearTimeout(timer as NodeJS.Timeout);
            if (ok) resolve(outcome);
            else reject(outcome);
          };
          const pending = runNext(next, context);
          pending.then(
            (value) => done(true, value),
            (error: unknown) => done(false, error),
          );
        });
      };
    },
  };
}
