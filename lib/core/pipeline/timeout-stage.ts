import { type Clock, systemClock } from '../clock.js';
import { type Deadline, DeadlineQueue } from '../deadline-queue.js';
import { type Duration, toMilliseconds } from '../duration.js';
import { TimeoutError } from '../errors.js';
import type { ResilienceContext } from './context.js';
import { runNext, type Stage } from './stage.js';

export interface TimeoutStageOptions {
  /** Seconds, or a string with a unit ('250ms', '5s'). */
  timeout: Duration;
  /** 'call' (default): the whole call, retries included; 'attempt': each attempt. */
  per?: 'call' | 'attempt';
  /** Deadlines run on its time (and its timers, when it has some: a simulation's). */
  clock?: Clock;
  /** Told of each call (or attempt) that failed at its deadline (metrics). */
  onTimedOut?: (error: TimeoutError, context: ResilienceContext) => void;
}

/** The signal a call had before any attempt timeout of ours: each attempt's own joins it afresh. */
const OUTER_SIGNAL = Symbol('nest-resilience:outer-signal');
type WithOuter = ResilienceContext & { [OUTER_SIGNAL]?: AbortSignal | null };

/**
 * One call's (or attempt's) deadline and its outcome: one promise settled by whichever comes
 * first, the operation or the deadline (then the signal aborts with TimeoutError). One object
 * per call; the timer is the stage's, shared.
 */
class TimedRun implements Deadline {
  settled = false;
  readonly controller = new AbortController();
  readonly promise: Promise<unknown>;
  private resolve!: (value: unknown) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly queue: DeadlineQueue,
    readonly at: number,
    private readonly seconds: number,
    private readonly per: 'call' | 'attempt',
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  expire(): void {
    const error = new TimeoutError(this.seconds, this.per);
    this.controller.abort(error);
    this.reject(error);
  }

  /** The operation ended: its outcome is the call's, unless the deadline came first. */
  finish(succeeded: boolean, outcome: unknown): void {
    if (this.settled) return;
    this.queue.settle(this);
    if (succeeded) this.resolve(outcome);
    else this.reject(outcome);
  }
}

/**
 * Bounds a call, or each attempt, by `timeout`: the operation gets an AbortSignal
 * (`context.signal`, joined with the caller's) that aborts with TimeoutError when the time is
 * up, and the call fails with it then, whether or not the operation stops. All deadlines of
 * one stage share one duration, so one timer serves every call in flight (a DeadlineQueue).
 */
export function timeoutStage(options: TimeoutStageOptions): Stage {
  const ms = toMilliseconds(options.timeout, 'timeout');
  if (!(ms > 0)) throw new RangeError(`timeout must be > 0, got ${String(options.timeout)}`);
  const per = options.per ?? 'call';
  if (per !== 'call' && per !== 'attempt') throw new RangeError(`timeout per must be 'call' or 'attempt', got ${per}`);
  const seconds = ms / 1000;
  const clock = options.clock ?? systemClock;
  const onTimedOut = options.onTimedOut;
  let deadlines: DeadlineQueue | undefined;
  return {
    kind: per === 'call' ? 'timeout' : 'attempt_timeout',
    failures: 'reports-own',
    wrap(next, hooks) {
      const report = hooks.finalFailure;
      return (context) => {
        deadlines ??= clock.timers ? new DeadlineQueue(() => clock.now(), clock.timers) : new DeadlineQueue();
        const queue = deadlines;
        const run = new TimedRun(queue, queue.now() + ms, seconds, per);
        const call = context as WithOuter;
        // An attempt's signal joins the call's own, never the previous attempt's (aborted).
        if (per === 'attempt' && call[OUTER_SIGNAL] === undefined) call[OUTER_SIGNAL] = context.signal ?? null;
        const outer = per === 'attempt' ? (call[OUTER_SIGNAL] ?? undefined) : context.signal;
        context.signal = outer ? AbortSignal.any([outer, run.controller.signal]) : run.controller.signal;
        queue.push(run);
        const pending = runNext(next, context);
        // Also handles a rejection that comes after the deadline (it is no one's to hear).
        pending.then(
          (value) => run.finish(true, value),
          (error: unknown) => run.finish(false, error),
        );
        if (!onTimedOut && !report) return run.promise;
        return run.promise.then(undefined, (error: unknown) => {
          if (!(error instanceof TimeoutError) || run.controller.signal.reason !== error) return Promise.reject(error);
          onTimedOut?.(error, context);
          return report ? report(error, context).then(() => Promise.reject(error)) : Promise.reject(error);
        });
      };
    },
  };
}
