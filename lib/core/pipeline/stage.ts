import type { ResilienceContext } from './context.js';
import type { StageKind } from './order.js';

/** Runs the rest of a pipeline (the stages inside the caller, then the operation). */
export type Next = (context: ResilienceContext) => Promise<unknown>;

/** `next(context)`, a synchronous throw turned into a rejection (for a stage that must settle a promise of its own). */
export function runNext(next: Next, context: ResilienceContext): Promise<unknown> {
  try {
    return next(context);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Told of a call's final failure before it leaves; the outcome stays the failure. */
export type FailureObserver = (error: unknown, context: ResilienceContext) => Promise<unknown>;

/**
 * How a stage treats the failures of the stages inside it, so compose knows where a
 * failure observer can run without a reaction of its own:
 * - `reports-all`: every failure leaving the stage goes through `hooks.finalFailure` first
 *   (a retry: it already catches every failure to decide on the next attempt);
 * - `reports-own`: failures from inside pass unchanged; the ones it makes itself (a call it
 *   turns away) go through `hooks.finalFailure`;
 * - `may-recover`: it may turn a failure into a success (a breaker's fallback, a dead
 *   letter that swallows the error): an observer outside it must watch on its own.
 */
export type FailureHandling = 'reports-all' | 'reports-own' | 'may-recover';

/** What compose tells a stage about the stages around it. */
export interface StageHooks {
  /** Awaited before a failure this stage reports (see FailureHandling) leaves it. */
  readonly finalFailure?: FailureObserver;
  /** An outer stage wants each failed attempt in `context.attempts`. */
  readonly recordAttempts: boolean;
}

/** One pattern of a pipeline (Polly's ResilienceStrategy, cockatiel's IPolicy). */
export interface Stage {
  readonly kind: StageKind;
  readonly failures: FailureHandling;
  /** Wants each failed attempt of the stages inside it recorded in `context.attempts`. */
  readonly wantsAttempts?: boolean;
  /**
   * Set by a stage that only watches final failures and never changes the outcome: compose
   * runs it at the innermost point that already catches them, instead of calling wrap.
   */
  readonly observeFailure?: FailureObserver;
  /** This stage around `next`, built once per pipeline. */
  wrap(next: Next, hooks: StageHooks): Next;
}
