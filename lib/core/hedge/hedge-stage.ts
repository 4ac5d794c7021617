import { AsyncResource } from 'node:async_hooks';
import type { ExtraAttemptBudget } from '../budget/extra-attempt-budget.js';
import { type Clock, systemClock } from '../clock.js';
import { type Deadline, DeadlineQueue } from '../deadline-queue.js';
import { type Duration, toMilliseconds } from '../duration.js';
import { type ErrorMatcher, errorPredicate } from '../error-matchers.js';
import type { ResilienceContext } from '../pipeline/context.js';
import { type Next, runNext, type Stage } from '../pipeline/stage.js';
import { type LatencyPercentile, LatencySketch, parsePercentile } from './latency-sketch.js';

/** What happened to a hedge: started, won the call, or not started for want of budget. */
export type HedgeOutcome = 'started' | 'won' | 'budget_exhausted';

export interface HedgeStageOptions {
  /** Attempts started besides the first, at most. Default 1. */
  maxHedged?: number;
  /**
   * How long an attempt may go unanswered before the next starts: a duration, or a percentile
   * of the operation's recent latencies ('p95'). Until the sketch has its first samples a
   * percentile starts no hedge.
   */
  delay: Duration | LatencyPercentile;
  /**
   * Failures after which the next attempt starts at once instead of waiting (names, families,
   * classes, predicates). Default: every failure. Another failure ends the call with it.
   */
  handle?: ErrorMatcher | readonly ErrorMatcher[];
  /** Extra attempts draw from it (shared with the service's retries); none: unbounded. */
  budget?: ExtraAttemptBudget;
  /** Delays run on its time (and its timers, when it has some: a simulation's). */
  clock?: Clock;
  /** Told of each hedge started, each that won its call, each the budget refused. */
  onHedge?: (outcome: HedgeOutcome, context: ResilienceContext) => void;
  /** Samples the percentile is taken over (the most recent). Default 512. */
  sketchSize?: number;
}

/** The abort reason of the attempts that lost to another. */
export class HedgeLostError extends Error {
  override readonly name = 'HedgeLostError';
  constructor() {
    super('Another attempt of this hedged call answered first');
  }
}

interface Shared {
  readonly next: Next;
  readonly queue: DeadlineQueue;
  readonly fixedDelay: number | undefined;
  readonly sketch: LatencySketch | undefined;
  readonly maxAttempts: number;
  readonly handles: (error: unknown) => boolean;
  readonly budget: ExtraAttemptBudget | undefined;
  readonly onHedge: HedgeStageOptions['onHedge'];
}

/**
 * One call's attempts. It is its own deadline in the stage's queue (one timer for every call
 * in flight); the promise settles with the first acceptable answer, and the other attempts
 * are aborted through their signal.
 */
class HedgedCall implements Deadline {
  at = 0;
  settled = false;
  readonly promise: Promise<unknown>;
  private resolve!: (value: unknown) => void;
  private reject!: (error: unknown) => void;
  private readonly controllers: AbortController[] = [];
  private readonly startedAt: number[] = [];
  /** Attempts that answered or failed (their latency is recorded already). */
  private readonly ended: boolean[] = [];
  private done = false;
  /** The call's async context (AsyncLocalStorage stores: the request, the active span). */
  private readonly scope = new AsyncResource('nest-resilience:hedge');
  private pending = 0;
  private stopped = false;

  constructor(
    private readonly shared: Shared,
    private readonly context: ResilienceContext,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  start(): void {
    this.launch();
    this.schedule();
  }

  /**
   * The delay is up with no answer: the next attempt, if the budget has one. The timer is the
   * stage's, armed by whichever call came first: the hedge runs in this call's async context
   * (its request, its trace), not that one's.
   */
  expire(): void {
    if (this.done) return;
    this.scope.runInAsyncScope(this.hedgeAndSchedule, this);
  }

  private hedgeAndSchedule(): void {
    if (this.hedge()) this.schedule();
  }

  private schedule(): void {
    if (this.done || this.controllers.length >= this.shared.maxAttempts) return;
    const delay = this.shared.fixedDelay ?? this.shared.sketch?.value();
    if (delay === undefined) return;
    this.settled = false;
    this.at = this.shared.queue.now() + delay;
    this.shared.queue.push(this);
  }

  /** Starts one more attempt unless attempts or budget are used up. */
  private hedge(): boolean {
    if (this.stopped || this.controllers.length >= this.shared.maxAttempts) return false;
    // No hedge that cannot answer before the caller's deadline (an attempt takes about the delay).
    const deadline = this.context.deadline;
    const expected = this.shared.fixedDelay ?? this.shared.sketch?.value() ?? 0;
    if (deadline !== undefined && this.shared.queue.now() + expected >= deadline) {
      this.stopped = true;
      return false;
    }
    if (this.shared.budget && !this.shared.budget.tryAcquire()) {
      this.stopped = true;
      this.shared.onHedge?.('budget_exhausted', this.context);
      return false;
    }
    this.shared.onHedge?.('started', this.context);
    this.launch();
    return true;
  }

  private launch(): void {
    const index = this.controllers.length;
    const controller = new AbortController();
    this.controllers.push(controller);
    this.startedAt.push(this.shared.queue.now());
    const outer = this.context.signal;
    const attempt: ResilienceContext = {
      ...this.context,
      signal: outer ? AbortSignal.any([outer, controller.signal]) : controller.signal,
    };
    this.pending++;
    const pending = runNext(this.shared.next, attempt);
    pending.then(
      (value) => this.answered(index, value),
      (error: unknown) => this.failed(index, attempt, error),
    );
  }

  private answered(index: number, value: unknown): void {
    this.pending--;
    if (this.done) return;
    this.record(index);
    if (index > 0) this.shared.onHedge?.('won', this.context);
    this.finish(index);
    this.resolve(value);
  }

  private failed(index: number, attempt: ResilienceContext, error: unknown): void {
    this.pending--;
    if (this.done) return;
    this.record(index);
    // A failure it handles starts the next attempt at once; the call fails when none is left.
    if (this.shared.handles(error) && (this.hedge() || this.pending > 0)) return;
    this.context.rejectedBy = attempt.rejectedBy;
    this.finish(index);
    this.reject(error);
  }

  /**
   * The sketch holds first attempts only: the delay is meant to be exceeded by a share of
   * first attempts (5% at 'p95'), and the hedges' own, mostly fast, latencies would pull it down.
   */
  private record(index: number): void {
    this.ended[index] = true;
    if (index === 0) this.shared.sketch?.record(this.shared.queue.now() - this.startedAt[0]);
  }

  /** Settles the call with attempt `last`'s outcome: cancels its deadline, aborts the attempts still running. */
  private finish(last: number): void {
    this.done = true;
    if (!this.settled) this.shared.queue.settle(this);
    if (this.pending === 0) return;
    // A first attempt that lost: its time so far is a lower bound of its latency. Without it,
    // the slow answers hedging cuts short would vanish from the sketch and the percentile fall.
    if (last !== 0 && !this.ended[0]) this.shared.sketch?.record(this.shared.queue.now() - this.startedAt[0]);
    const reason = new HedgeLostError();
    this.controllers.forEach((controller, i) => {
      if (i !== last && !this.ended[i]) controller.abort(reason);
    });
  }
}

/**
 * Hedging ("The Tail at Scale"): when an attempt has not answered after `delay`, another
 * starts, up to `maxHedged` more; the first acceptable answer is the call's and the others
 * are aborted through their signal. Only for operations safe to run twice. Extra attempts
 * draw from the service's budget, so hedges stop when most calls are slow (when hedging
 * cannot help and would add load). One timer serves every call in flight (a deadline queue);
 * a call that answers within its delay costs one queue entry.
 */
export function hedgeStage(options: HedgeStageOptions): Stage {
  const maxHedged = options.maxHedged ?? 1;
  if (!Number.isInteger(maxHedged) || maxHedged < 1) {
    throw new RangeError(`maxHedged must be an integer >= 1, got ${maxHedged}`);
  }
  const percentile =
    typeof options.delay === 'string' && options.delay.startsWith('p') ? parsePercentile(options.delay) : undefined;
  const fixedDelay = percentile === undefined ? toMilliseconds(options.delay, 'delay') : undefined;
  if (fixedDelay !== undefined && !(fixedDelay >= 0)) throw new RangeError(`delay must be >= 0, got ${options.delay}`);
  const clock = options.clock ?? systemClock;
  const handles = errorPredicate(options.handle);
  return {
    kind: 'hedge',
    // A later attempt may answer for a failed one: an observer outside must watch on its own.
    failures: 'may-recover',
    wrap(next) {
      const shared: Shared = {
        next,
        queue: clock.timers ? new DeadlineQueue(() => clock.now(), clock.timers) : new DeadlineQueue(),
        fixedDelay,
        sketch: percentile === undefined ? undefined : new LatencySketch(percentile, options.sketchSize),
        maxAttempts: 1 + maxHedged,
        handles,
        budget: options.budget,
        onHedge: options.onHedge,
      };
      return (context) => {
        shared.budget?.recordCall();
        const call = new HedgedCall(shared, context);
        call.start();
        return call.promise;
      };
    },
  };
}
