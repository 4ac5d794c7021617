import { type Criticality, rankOf } from '../criticality.js';
import { DeadlineQueue } from '../deadline-queue.js';
import { CallTimeoutError, CircuitOpenError } from '../errors.js';
import { CircuitBreakerFields } from './breaker-fields.js';
import { runTimed, type TimedCall } from './timed-call.js';
import type { CallContext, CircuitState } from './types.js';

const NO_CONTEXT: CallContext = Object.freeze({});
/** Generation given to calls of a disabled breaker: never equal to a real one. */
const UNTRACKED = -1;
/** Retry-After of a call turned away because every half-open trial slot is taken. */
const HALF_OPEN_RETRY_AFTER_MS = 1000;

/**
 * The guide's circuit breaker, with resilience4j's rate and slow-call modes.
 *
 * - No timers: OPEN becomes HALF_OPEN lazily, on the first call after `timeout`.
 * - O(1) per call whatever the window holds.
 * - Every state change starts a new generation; a call admitted in an earlier
 *   generation changes nothing when it ends (no stale result flips the state).
 * - HALF_OPEN admits at most `halfOpenMaxCalls` trials at once; the rest are rejected.
 * - Trials go to the most important class of call seen while the breaker was not closed
 *   within the last open duration (`timeout`): a sheddable call gets none while critical
 *   calls are arriving, yet a service with only sheddable traffic still probes.
 *
 * This file is the state machine; CircuitBreakerPolicy (circuit-breaker.ts) adds the
 * controls (force, disable, reset), metrics and snapshots.
 */
export abstract class CircuitBreakerCore extends CircuitBreakerFields {
  /** The state now (an expired OPEN reads as HALF_OPEN, as the next call will find it). */
  get state(): CircuitState {
    if (this.currentState === 'open' && !this.forced && this.clock.now() >= this.openUntil) return 'half_open';
    return this.currentState;
  }

  /** Seconds until an OPEN breaker admits a trial (0 when it would admit now). */
  get retryAfter(): number {
    if (this.currentState !== 'open') return 0;
    if (this.forced) return this.openMs / 1000;
    return Math.max(0, this.openUntil - this.clock.now()) / 1000;
  }

  /**
   * Runs `fn` through the breaker. Rejects with CircuitOpenError without calling it
   * while OPEN (or while every half-open trial slot is taken). An admitted call's `fn` runs
   * before execute returns (so a caller knows synchronously whether it was turned away).
   * `state` is handed to `fn` (Polly's TState: one shared function instead of a closure per call).
   * `criticality` (default critical) decides who gets a half-open trial.
   */
  execute<T, S = undefined>(
    fn: (context: CallContext, state: S) => T | PromiseLike<T>,
    state?: S,
    criticality?: Criticality,
  ): Promise<T> {
    const generation = this.admit(criticality);
    if (generation === undefined) return this.reject<T>();
    if (this.fastPath) return this.executeFast(fn, generation, state as S);
    const startedAt = this.slowMs !== undefined ? this.clock.now() : 0;
    if (this.callTimeoutMs !== undefined) {
      // A clock with timers of its own (virtual time) times calls out on its time; else the process's.
      const timers = this.clock.timers;
      if (!this.deadlines)
        this.deadlines = timers ? new DeadlineQueue(() => this.clock.now(), timers) : new DeadlineQueue();
      return runTimed(this, this.deadlines, this.callTimeoutMs, fn, generation, startedAt, state as S);
    }
    let pending: T | PromiseLike<T>;
    try {
      pending = fn(NO_CONTEXT, state as S);
    } catch (error) {
      return this.failed<T>(generation, startedAt, error);
    }
    return Promise.resolve(pending).then(
      (result) => this.succeeded(generation, startedAt, result),
      (error) => this.failed<T>(generation, startedAt, error),
    );
  }

  /**
   * The common case (no slow-call, timeout, fallback or result check): the breaker
   * observes the operation's promise through handlers shared by every call of the
   * generation (no closure per call), and the caller gets the promise those handlers
   * derive: it settles as the operation did, and a rejection nobody handles still reaches
   * 'unhandledRejection' (handlers on the operation's own promise would mark it handled).
   */
  private executeFast<T, S>(
    fn: (context: CallContext, state: S) => T | PromiseLike<T>,
    generation: number,
    state: S,
  ): Promise<T> {
    let pending: T | PromiseLike<T>;
    try {
      pending = fn(NO_CONTEXT, state);
    } catch (error) {
      this.recordFailure(generation, 0, error, false);
      return this.afterReport(() => Promise.reject(error));
    }
    const promise = pending instanceof Promise ? (pending as Promise<T>) : Promise.resolve(pending);
    let handlers = this.observers;
    if (handlers === undefined || handlers.generation !== generation) {
      handlers = {
        generation,
        onResult: (result: unknown) => this.succeeded(generation, 0, result),
        onError: (error: unknown) => {
          this.recordFailure(generation, 0, error, false);
          if (this.pendingReport !== undefined) return this.afterReport(() => Promise.reject(error));
          throw error;
        },
      };
      this.observers = handlers;
    }
    return promise.then(handlers.onResult, handlers.onError) as Promise<T>;
  }

  /** The call's outcome, made once the pending report (if any) is done (a rejection made earlier would be unhandled meanwhile). */
  private afterReport<T>(outcome: () => T | Promise<T>): Promise<T> {
    const report = this.pendingReport;
    if (report === undefined) return Promise.resolve(outcome());
    this.pendingReport = undefined;
    return report.then(outcome);
  }

  /** Admits a call: its generation, or undefined to reject it. */
  protected admit(criticality?: Criticality): number | undefined {
    if (this.disabled) return UNTRACKED;
    switch (this.currentState) {
      case 'closed':
        return this.generation;
      case 'open': {
        if (this.forced) return undefined;
        const now = this.clock.now();
        if (now < this.openUntil) {
          this.outranked(rankOf(criticality), now);
          return undefined;
        }
        this.transition('half_open');
        break;
      }
      case 'half_open':
        break;
    }
    if (this.outranked(rankOf(criticality), this.clock.now())) return undefined;
    if (this.trialsInFlight >= this.halfOpenMaxCalls) {
      if (this.clock.now() - this.trialsSince < this.trialLeaseMs) return undefined;
      // The trials' leases ran out: a new round of trials; the old ones' results count for nothing.
      this.generation++;
      this.trialsInFlight = 0;
    }
    if (this.trialsInFlight === 0) this.trialsSince = this.clock.now();
    this.trialsInFlight++;
    return this.generation;
  }

  /**
   * Notes a call's class (rank 0 is the most important) while the breaker is not closed; true
   * when a more important class was seen within the last open duration, so this call must
   * leave the trials to it. Once that class stops arriving, the lower ones probe again.
   */
  private outranked(rank: number, now: number): boolean {
    if (rank <= this.trialRank || now - this.trialRankSeenAt >= this.openMs) {
      this.trialRank = rank;
      this.trialRankSeenAt = now;
      return false;
    }
    return true;
  }

  /** Turns a call away: CircuitOpenError, or the fallback's answer. */
  protected reject<T>(): Promise<T> {
    const retryAfter = this.currentState === 'open' ? this.retryAfter : HALF_OPEN_RETRY_AFTER_MS / 1000;
    const error = CircuitOpenError.stackless(this.name, retryAfter);
    if (this.events.rejection.hasListeners) this.events.rejection.emit({ name: this.name });
    return this.fallback ? this.recover<T>(error) : Promise.reject(error);
  }

  /** @internal A call of `generation` succeeded (runTimed reports through it). */
  succeeded<T>(generation: number, startedAt: number, result: T): T | Promise<T> {
    if (this.isResultFailure?.(result)) {
      this.recordFailure(generation, startedAt, result, true);
      return this.pendingReport === undefined ? result : this.afterReport(() => result);
    }
    if (generation !== this.generation) return result;
    const now = this.slowMs !== undefined || this.rateRule !== undefined ? this.clock.now() : 0;
    const slow = this.slowMs !== undefined && now - startedAt >= this.slowMs;
    if (this.events.success.hasListeners) this.events.success.emit({ name: this.name });
    if (this.currentState === 'half_open') {
      this.trialsInFlight--;
      this.trialEnded('success');
      if (this.pendingReport !== undefined) return this.afterReport(() => result);
    } else if (this.countClosed(false, slow, now)) {
      this.open(false);
    }
    return result;
  }

  /**
   * A call failed. The fallback answers for failures the breaker counts (and, in reject(),
   * for calls it turns away); an error it does not count passes through untouched, as if
   * there were no breaker.
   */
  /** @internal */
  failed<T>(generation: number, startedAt: number, error: unknown): Promise<T> {
    const counted = this.isFailure(error);
    this.recordFailure(generation, startedAt, error, false, counted);
    if (this.pendingReport === undefined)
      return counted && this.fallback ? this.recover<T>(error) : Promise.reject(error);
    return this.afterReport(() => (counted && this.fallback ? this.recover<T>(error) : Promise.reject(error)));
  }

  /** Counts a failure of a call of `generation` (an error, or a result isResultFailure flagged). */
  private recordFailure(
    generation: number,
    startedAt: number,
    outcome: unknown,
    flaggedResult: boolean,
    countedError?: boolean,
  ): void {
    if (generation !== this.generation) return;
    const counted = flaggedResult || (countedError ?? this.isFailure(outcome));
    if (this.currentState === 'half_open') {
      this.trialsInFlight--;
      this.trialEnded(counted ? 'failure' : 'uncounted');
      return;
    }
    if (!counted) return;
    const now = this.clock.now();
    if (this.events.failure.hasListeners) this.events.failure.emit({ name: this.name, error: outcome });
    const slow = this.slowMs !== undefined && now - startedAt >= this.slowMs;
    if (this.countClosed(true, slow, now)) this.open(false);
  }

  /**
   * Counts one outcome of a CLOSED call of the current generation; true when the breaker
   * must open now. A shared breaker counts in its fleet's store instead.
   */
  protected countClosed(failed: boolean, slow: boolean, now: number): boolean {
    if (!failed) {
      this.consecutiveFailures = 0;
      return this.rateRule?.record(false, slow, now) ?? false;
    }
    this.consecutiveFailures++;
    const rateOpens = this.rateRule?.record(true, slow, now) ?? false;
    return this.consecutiveFailures >= this.failureThreshold || rateOpens;
  }

  /** A HALF_OPEN trial of the current generation ended (its slot is already free). */
  protected trialEnded(outcome: 'success' | 'failure' | 'uncounted'): void {
    if (outcome === 'success') {
      if (++this.consecutiveSuccesses >= this.successThreshold) this.transition('closed');
    } else if (outcome === 'failure') {
      this.open(true);
    }
  }

  private recover<T>(error: unknown): Promise<T> {
    try {
      return Promise.resolve(this.fallback?.(error) as T);
    } catch (fallbackError) {
      return Promise.reject(fallbackError);
    }
  }

  /**
   * Ends every call waiting on its callTimeout now (the application shuts down): each one's
   * signal aborts with `reason` and its caller gets `reason`; none counts as a failure, and the
   * deadline timer no longer holds the process.
   */
  cancelPending(reason: unknown): void {
    this.deadlines?.cancelAll((deadline) => {
      const call = deadline as TimedCall<unknown>;
      call.abort(reason);
      call.resolveWith(Promise.reject(reason));
    });
  }

  /** Ends a timed call that ran past `callTimeout`. */
  timedOut<T>(call: TimedCall<T>): void {
    const error = new CallTimeoutError((this.callTimeoutMs as number) / 1000, `Call through circuit "${this.name}"`);
    call.abort(error);
    call.resolveWith(this.failed<T>(call.generation, call.startedAt, error));
  }

  protected open(fromHalfOpen: boolean): void {
    this.reopens = fromHalfOpen ? this.reopens + 1 : 0;
    const duration = Math.min(this.maxOpenMs, this.openMs * this.timeoutMultiplier ** this.reopens);
    this.openUntil = this.clock.now() + Math.max(this.openMs <= this.maxOpenMs ? this.openMs : 0, duration);
    this.transition('open');
  }

  protected transition(to: CircuitState): void {
    const from = this.currentState;
    this.currentState = to;
    this.generation++;
    this.trialsInFlight = 0;
    this.consecutiveSuccesses = 0;
    this.consecutiveFailures = 0;
    if (to === 'closed') {
      this.reopens = 0;
      this.rateRule?.reset();
    }
    this.stateChanged();
    if (from === to) return;
    this.events.stateChange.emit({ from, to, name: this.name });
  }

  /** After every transition (CircuitBreakerPolicy saves the state to its store). */
  protected abstract stateChanged(): void;
}
