import { ExtraAttemptBudget } from '../budget/extra-attempt-budget.js';
import { type Clock, systemClock, wallClock } from '../clock.js';
import { toMilliseconds } from '../duration.js';
import { errorPredicate } from '../error-matchers.js';
import { CircuitOpenError, RateLimitExceededError } from '../errors.js';
import { type Event, EventSource } from '../events.js';
import { backoffDelay, type Jitter } from './backoff.js';
import { RetryBudget } from './budget.js';
import { isPermanentError } from './classify.js';
import type { FailedAttempt } from './failed-attempt.js';
import { retryAfterOf } from './retry-after.js';
import type { RetryContext, RetryEvent, RetryOptions, RetryOutcome } from './retry-options.js';
import { realSleep, type Sleep } from './sleep.js';

export type { RetryContext, RetryEvent, RetryOptions } from './retry-options.js';

/** An open breaker (or a limit) that will not admit a call within maxDelay cannot succeed on a retry here. */
function opensTooLong(error: unknown, maxDelaySeconds: number): boolean {
  return (
    (error instanceof CircuitOpenError || error instanceof RateLimitExceededError) && error.retryAfter > maxDelaySeconds
  );
}

const FIRST_ATTEMPT: RetryContext = Object.freeze({ attempt: 1 });

/**
 * Per-call options of RetryPolicy.execute. `state` is handed to the operation and the hook
 * (Polly's TState): a caller can share one function between calls instead of a closure per call.
 */
export interface RetryExecuteOptions<S = unknown> {
  /** Cancels a wait at once (rejecting with its reason); passed to the operation. */
  signal?: AbortSignal;
  /** Each failed attempt is appended here (the first included), with the time it failed. */
  attempts?: FailedAttempt[];
  /** Awaited when the call gives up, before the error is rethrown (e.g. to keep a dead letter first). */
  beforeGiveUp?: (error: unknown, attempts: number, state: S) => Promise<unknown>;
  state?: S;
  /**
   * When the caller gives up, on the policy's clock: no retry starts whose wait and attempt
   * (as long as the last one took) would end past it.
   */
  deadlineAt?: number;
}
type Attempt<T, S> = (context: RetryContext, state: S) => T | PromiseLike<T>;
const NO_OPTIONS: RetryExecuteOptions = Object.freeze({});
const NO_ERROR = Symbol('no error');
const attemptsByError = new WeakMap<object, number>();

/** How many attempts a call made before it gave up with `error` (also on `error.attempts` when writable). */
export function attemptsOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? attemptsByError.get(error) : undefined;
}

function annotate(error: unknown, attempts: number): void {
  if (typeof error !== 'object' || error === null) return;
  attemptsByError.set(error, attempts);
  if (Object.isExtensible(error)) {
    try {
      Object.defineProperty(error, 'attempts', {
        value: attempts,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    } catch {
      // A non-configurable `attempts` of the error's own: attemptsOf() still answers.
    }
  }
}

/**
 * The guide's RetryPolicy. The first try runs inline; only a failure enters the retry
 * loop. On give-up the last error is rethrown unchanged (never wrapped, so callers'
 * instanceof checks hold), with the attempt count on `error.attempts` / attemptsOf().
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly exponentialBase: number;
  private readonly jitter: Jitter;
  private readonly shouldRetryError: (error: unknown, attempt: number) => boolean;
  private readonly retryOnResult?: (result: unknown) => boolean;
  private readonly maxTotalDelayMs?: number;
  private readonly deadlineMs?: number;
  /** The token-bucket budget (gRPC's retry throttling), when the options give one. */
  readonly budget?: RetryBudget;
  /** The share-of-calls budget (shared with hedges), when the options give one. */
  readonly sharedBudget?: ExtraAttemptBudget;
  private readonly retryHook?: (event: RetryEvent) => void;
  private readonly completeHook?: (attempts: number, succeeded: boolean) => void;
  private readonly retried = new EventSource<RetryEvent>();
  private readonly finished = new EventSource<RetryOutcome>();
  /** An attempt is about to run again (after its wait). Subscribe at any time. */
  readonly onRetry: Event<RetryEvent> = this.retried.event;
  /** A call ended: the attempts it took and whether it succeeded. Subscribe at any time. */
  readonly onComplete: Event<RetryOutcome> = this.finished.event;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly sleep: Sleep;
  private readonly abortWaits?: AbortSignal;
  /** True when a first-try success needs no bookkeeping, so it costs one promise reaction. */
  private readonly plainSuccess: boolean;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be an integer >= 1, got ${this.maxAttempts}`);
    }
    this.baseDelayMs = toMilliseconds(options.baseDelay ?? 1, 'baseDelay');
    this.maxDelayMs = toMilliseconds(options.maxDelay ?? 60, 'maxDelay');
    if (this.maxDelayMs < this.baseDelayMs) {
      throw new RangeError(`maxDelay (${this.maxDelayMs} ms) must be >= baseDelay (${this.baseDelayMs} ms)`);
    }
    this.exponentialBase = options.exponentialBase ?? 2;
    if (!(this.exponentialBase >= 1)) throw new RangeError(`exponentialBase must be >= 1, got ${this.exponentialBase}`);
    this.jitter = options.jitter ?? true;
    if (typeof this.jitter === 'number' && !(this.jitter >= 0 && this.jitter <= 1)) {
      throw new RangeError(`jitter ratio must be from 0 to 1, got ${this.jitter}`);
    }
    const matches = options.retryableExceptions ? errorPredicate(options.retryableExceptions) : undefined;
    const maxDelaySeconds = this.maxDelayMs / 1000;
    this.shouldRetryError =
      options.retryIf ??
      (matches ? (e) => matches(e) : (e) => !isPermanentError(e) && !opensTooLong(e, maxDelaySeconds));
    this.retryOnResult = options.retryOnResult;
    this.maxTotalDelayMs =
      options.maxTotalDelay !== undefined ? toMilliseconds(options.maxTotalDelay, 'maxTotalDelay') : undefined;
    this.deadlineMs = options.deadline !== undefined ? toMilliseconds(options.deadline, 'deadline') : undefined;
    const budget = options.budget;
    if (budget instanceof ExtraAttemptBudget) this.sharedBudget = budget;
    else if (budget instanceof RetryBudget) this.budget = budget;
    else if (budget !== undefined && 'ratio' in budget) {
      this.sharedBudget = new ExtraAttemptBudget({ ...budget, clock: options.clock });
    } else if (budget !== undefined) this.budget = new RetryBudget(budget.maxTokens, budget.tokenRatio);
    this.retryHook = options.onRetry;
    this.completeHook = options.onComplete;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? realSleep;
    this.abortWaits = options.abortWaits;
    this.plainSuccess = !this.retryOnResult && !this.budget && !this.completeHook;
  }

  /**
   * Runs `fn`, retrying as configured. `signal` cancels a wait at once (rejecting with
   * its reason) and is passed to the operation.
   */
  execute<T, S = unknown>(
    fn: Attempt<T, S>,
    options: RetryExecuteOptions<S> = NO_OPTIONS as RetryExecuteOptions<S>,
  ): Promise<T> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const startedAt = this.deadlineMs !== undefined || options.deadlineAt !== undefined ? this.clock.now() : 0;
    this.sharedBudget?.recordCall();
    let first: T | PromiseLike<T>;
    try {
      first = fn(signal ? { attempt: 1, signal } : FIRST_ATTEMPT, options.state as S);
    } catch (error) {
      this.recordFailure(options, 1, error);
      return this.retry(fn, options, startedAt, error, undefined);
    }
    if (!(first instanceof Promise)) {
      return this.plainSuccess && !this.finished.hasListeners
        ? Promise.resolve(first)
        : Promise.resolve(first).then((r) => this.firstResult(fn, options, startedAt, r));
    }
    const failed = (error: unknown) => {
      this.recordFailure(options, 1, error);
      return this.retry(fn, options, startedAt, error, undefined);
    };
    if (this.plainSuccess && !this.finished.hasListeners) return (first as Promise<T>).catch(failed);
    return (first as Promise<T>).then((result) => this.firstResult(fn, options, startedAt, result), failed);
  }

  private firstResult<T, S>(
    fn: Attempt<T, S>,
    options: RetryExecuteOptions<S>,
    startedAt: number,
    result: T,
  ): T | Promise<T> {
    if (this.retryOnResult?.(result)) return this.retry(fn, options, startedAt, NO_ERROR, result);
    this.budget?.onSuccess();
    this.complete(1, true);
    return result;
  }

  /** The retry loop, entered after a first attempt that failed (or returned a retried result). */
  private async retry<T, S>(
    fn: Attempt<T, S>,
    options: RetryExecuteOptions<S>,
    startedAt: number,
    firstError: unknown,
    firstResult: T | undefined,
  ): Promise<T> {
    const signal = options.signal;
    let error: unknown = firstError;
    let result = firstResult;
    let attempt = 1;
    let waited = 0;
    let previousDelay = 0;
    const deadlineAt = options.deadlineAt;
    let attemptStartedAt = startedAt;
    for (;;) {
      const now = this.clock.now();
      // The time left for the wait, if the next attempt takes as long as the last one did.
      const left = deadlineAt === undefined ? undefined : deadlineAt - now - (now - attemptStartedAt);
      const delay = this.planRetry(attempt, error, waited, previousDelay, now - startedAt, left);
      if (delay === undefined) {
        this.complete(attempt, false);
        if (error === NO_ERROR) return result as T;
        annotate(error, attempt);
        if (options.beforeGiveUp) await options.beforeGiveUp(error, attempt, options.state as S);
        throw error;
      }
      attempt++;
      if (this.retryHook || this.retried.hasListeners) {
        const event =
          error === NO_ERROR ? { attempt, delay: delay / 1000, result } : { attempt, delay: delay / 1000, error };
        this.retryHook?.(event);
        this.retried.emit(event);
      }
      await this.sleep(delay, this.waitSignal(signal));
      waited += delay;
      previousDelay = delay;
      if (deadlineAt !== undefined) attemptStartedAt = this.clock.now();
      try {
        const value = await fn(signal ? { attempt, signal } : { attempt }, options.state as S);
        if (this.retryOnResult?.(value)) {
          error = NO_ERROR;
          result = value;
          continue;
        }
        this.budget?.onSuccess();
        this.complete(attempt, true);
        return value;
      } catch (caught) {
        error = caught;
        this.recordFailure(options, attempt, caught);
      }
    }
  }

  private complete(attempts: number, succeeded: boolean): void {
    this.completeHook?.(attempts, succeeded);
    if (this.finished.hasListeners) this.finished.emit({ attempts, succeeded });
  }

  private recordFailure(options: { attempts?: FailedAttempt[] }, attempt: number, error: unknown): void {
    options.attempts?.push({ attempt, at: this.clock.now(), error });
  }

  private waitSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
    if (!this.abortWaits) return signal;
    return signal ? AbortSignal.any([signal, this.abortWaits]) : this.abortWaits;
  }

  /** The wait before the next attempt (ms): a Retry-After the error carries, else the backoff. */
  /**
   * After a failed attempt (`error`; the policy's NO_ERROR for a retried result): the delay in
   * ms before the next attempt, or undefined to give up (attempts used, an error it does not
   * retry, the budget, maxTotalDelay or the deadline). Counts the failure in the budget. The
   * retry loop decides with it, and so can a caller that runs the attempts itself (the
   * simulator replays recorded traffic this way, on its own clock).
   */
  planRetry(
    attempt: number,
    error: unknown,
    waitedMs: number,
    previousDelayMs: number,
    elapsedMs: number,
    /** Time left before the caller's deadline for the wait (its attempt's expected time taken off). */
    leftMs?: number,
  ): number | undefined {
    this.budget?.onFailure();
    const delay = this.nextDelay(attempt, error, previousDelayMs);
    const giveUp =
      attempt >= this.maxAttempts ||
      (error !== NO_ERROR && !this.shouldRetryError(error, attempt)) ||
      delay === undefined ||
      (this.maxTotalDelayMs !== undefined && waitedMs + delay > this.maxTotalDelayMs) ||
      (this.deadlineMs !== undefined && elapsedMs + delay > this.deadlineMs) ||
      (leftMs !== undefined && delay > leftMs) ||
      (this.budget !== undefined && !this.budget.canRetry()) ||
      // Last: a shared budget spends an attempt when asked, so it is asked only for a retry that would run.
      (this.sharedBudget !== undefined && !this.sharedBudget.tryAcquire());
    return giveUp ? undefined : delay;
  }

  private nextDelay(attempt: number, error: unknown, previousDelay: number): number | undefined {
    if (error !== NO_ERROR) {
      // An HTTP-date Retry-After is wall time: compare it with the wall clock (a test's clock as given).
      const retryAfter = retryAfterOf(error, this.clock === systemClock ? wallClock.now() : this.clock.now());
      if (retryAfter !== undefined) return Math.min(retryAfter * 1000, this.maxDelayMs);
    }
    return backoffDelay(attempt + 1, previousDelay, {
      baseDelayMs: this.baseDelayMs,
      maxDelayMs: this.maxDelayMs,
      exponentialBase: this.exponentialBase,
      jitter: this.jitter,
      random: this.random,
    });
  }
}
