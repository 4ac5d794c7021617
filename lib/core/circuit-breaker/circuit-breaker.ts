import { type Clock, systemClock } from '../clock.js';
import { DeadlineQueue } from '../deadline-queue.js';
import { CallTimeoutError, CircuitOpenError } from '../errors.js';
import { breakerSettings, rateExceeded } from './options.js';
import { safely, validateSnapshot } from './snapshot.js';
import { TimedCall } from './timed-call.js';
import type {
  CallContext,
  CircuitBreakerListener,
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  CircuitState,
} from './types.js';
import { CountWindow, type OutcomeWindow, TimeWindow } from './window.js';

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
 */
export class CircuitBreakerPolicy {
  readonly name: string;
  private readonly failureThreshold: number;
  private readonly successThreshold: number;
  private readonly openMs: number;
  private readonly maxOpenMs: number;
  private readonly timeoutMultiplier: number;
  private readonly halfOpenMaxCalls: number;
  private readonly trialLeaseMs: number;
  /** When the oldest trial holding a slot was admitted. */
  private trialsSince = 0;
  private readonly minimumCalls: number;
  private readonly failureRate?: number;
  private readonly slowRate?: number;
  private readonly slowMs?: number;
  private readonly callTimeoutMs?: number;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly isResultFailure?: (result: unknown) => boolean;
  private readonly fallback?: (error: unknown) => unknown;
  private readonly clock: Clock;
  private readonly window?: OutcomeWindow;
  private readonly listeners: CircuitBreakerListener[] = [];
  private deadlines?: DeadlineQueue;
  private readonly fastPath: boolean;
  private observers?: {
    generation: number;
    onResult: (result: unknown) => unknown;
    onError: (error: unknown) => never;
  };

  private currentState: CircuitState = 'closed';
  private generation = 0;
  private consecutiveFailures = 0;
  private consecutiveSuccesses = 0;
  private trialsInFlight = 0;
  private openUntil = 0;
  private reopens = 0;
  private forced = false;
  private disabled: boolean;

  constructor(name = 'default', options: CircuitBreakerOptions = {}) {
    this.name = name;
    const settings = breakerSettings(options);
    this.failureThreshold = settings.failureThreshold;
    this.successThreshold = settings.successThreshold;
    this.openMs = settings.openMs;
    this.timeoutMultiplier = settings.timeoutMultiplier;
    this.maxOpenMs = settings.maxOpenMs;
    this.halfOpenMaxCalls = settings.halfOpenMaxCalls;
    this.trialLeaseMs = settings.trialLeaseMs;
    this.minimumCalls = settings.minimumCalls;
    this.failureRate = settings.failureRate;
    this.slowRate = settings.slowRate;
    this.slowMs = settings.slowMs;
    this.callTimeoutMs = settings.callTimeoutMs;
    this.isFailure = settings.isFailure;
    this.window = settings.window;
    this.isResultFailure = options.isResultFailure;
    this.fallback = options.fallback;
    this.clock = options.clock ?? systemClock;
    this.disabled = options.enabled === false;
    this.fastPath =
      this.slowMs === undefined && this.callTimeoutMs === undefined && !this.fallback && !this.isResultFailure;
    if (options.onStateChange) {
      const listener = options.onStateChange;
      this.listeners.push({ onStateChange: listener });
    }
  }

  /** The state now (an expired OPEN reads as HALF_OPEN, as the next call will find it). */
  get state(): CircuitState {
    if (this.currentState === 'open' && !this.forced && this.clock.now() >= this.openUntil) return 'half_open';
    return this.currentState;
  }

  get isForcedOpen(): boolean {
    return this.forced;
  }

  /** True when calls run under a `callTimeout` (the operation gets a `signal` in its context). */
  get hasCallTimeout(): boolean {
    return this.callTimeoutMs !== undefined;
  }

  get isDisabled(): boolean {
    return this.disabled;
  }

  /** Seconds until an OPEN breaker admits a trial (0 when it would admit now). */
  get retryAfter(): number {
    if (this.currentState !== 'open') return 0;
    if (this.forced) return this.openMs / 1000;
    return Math.max(0, this.openUntil - this.clock.now()) / 1000;
  }

  /** Adds an observer; returns a function that removes it. */
  subscribe(listener: CircuitBreakerListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** True when a fallback answers for counted failures and rejected calls. */
  get hasFallback(): boolean {
    return this.fallback !== undefined;
  }

  /**
   * Runs `fn` through the breaker. Rejects with CircuitOpenError without calling it
   * while OPEN (or while every half-open trial slot is taken). An admitted call's `fn` runs
   * before execute returns (so a caller knows synchronously whether it was turned away).
   */
  execute<T>(fn: (context: CallContext) => T | PromiseLike<T>): Promise<T> {
    const generation = this.admit();
    if (generation === undefined) return this.reject<T>();
    if (this.fastPath) return this.executeFast(fn, generation);
    const startedAt = this.slowMs !== undefined ? this.clock.now() : 0;
    if (this.callTimeoutMs !== undefined) return this.runWithTimeout(fn, generation, startedAt);
    let pending: T | PromiseLike<T>;
    try {
      pending = fn(NO_CONTEXT);
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
  private executeFast<T>(fn: (context: CallContext) => T | PromiseLike<T>, generation: number): Promise<T> {
    let pending: T | PromiseLike<T>;
    try {
      pending = fn(NO_CONTEXT);
    } catch (error) {
      this.recordFailure(generation, 0, error, false);
      return Promise.reject(error);
    }
    const promise = pending instanceof Promise ? (pending as Promise<T>) : Promise.resolve(pending);
    let handlers = this.observers;
    if (handlers === undefined || handlers.generation !== generation) {
      handlers = {
        generation,
        onResult: (result: unknown) => this.succeeded(generation, 0, result),
        onError: (error: unknown) => {
          this.recordFailure(generation, 0, error, false);
          throw error;
        },
      };
      this.observers = handlers;
    }
    return promise.then(handlers.onResult, handlers.onError) as Promise<T>;
  }

  /** Admits a call: its generation, or undefined to reject it. */
  private admit(): number | undefined {
    if (this.disabled) return UNTRACKED;
    switch (this.currentState) {
      case 'closed':
        return this.generation;
      case 'open':
        if (this.forced || this.clock.now() < this.openUntil) return undefined;
        this.transition('half_open');
        break;
      case 'half_open':
        break;
    }
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

  /** Turns a call away: CircuitOpenError, or the fallback's answer. */
  private reject<T>(): Promise<T> {
    const retryAfter = this.currentState === 'open' ? this.retryAfter : HALF_OPEN_RETRY_AFTER_MS / 1000;
    const error = CircuitOpenError.stackless(this.name, retryAfter);
    if (this.listeners.length > 0) {
      for (const l of this.listeners) if (l.onRejection) safely(() => l.onRejection?.(this.name));
    }
    return this.fallback ? this.recover<T>(error) : Promise.reject(error);
  }

  private succeeded<T>(generation: number, startedAt: number, result: T): T | Promise<T> {
    if (this.isResultFailure?.(result)) {
      this.recordFailure(generation, startedAt, result, true);
      return result;
    }
    if (generation !== this.generation) return result;
    const now = this.slowMs !== undefined || this.window !== undefined ? this.clock.now() : 0;
    const slow = this.slowMs !== undefined && now - startedAt >= this.slowMs;
    for (const l of this.listeners) if (l.onSuccess) safely(() => l.onSuccess?.(this.name));
    if (this.currentState === 'half_open') {
      this.trialsInFlight--;
      if (++this.consecutiveSuccesses >= this.successThreshold) this.transition('closed');
    } else {
      this.consecutiveFailures = 0;
      if (this.window) {
        this.window.record(false, slow, now);
        this.openIfRatesExceeded();
      }
    }
    return result;
  }

  /**
   * A call failed. The fallback answers for failures the breaker counts (and, in reject(),
   * for calls it turns away); an error it does not count passes through untouched, as if
   * there were no breaker.
   */
  private failed<T>(generation: number, startedAt: number, error: unknown): Promise<T> {
    const counted = this.isFailure(error);
    this.recordFailure(generation, startedAt, error, false, counted);
    return counted && this.fallback ? this.recover<T>(error) : Promise.reject(error);
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
      if (counted) this.open(true);
      return;
    }
    if (!counted) return;
    const now = this.clock.now();
    for (const l of this.listeners) if (l.onFailure) safely(() => l.onFailure?.(this.name, outcome));
    this.consecutiveFailures++;
    if (this.window) {
      this.window.record(true, this.slowMs !== undefined && now - startedAt >= this.slowMs, now);
    }
    if (this.consecutiveFailures >= this.failureThreshold) this.open(false);
    else if (this.window) this.openIfRatesExceeded();
  }

  private openIfRatesExceeded(): void {
    const w = this.window;
    if (!w || w.calls < this.minimumCalls) return;
    if (rateExceeded(w.failures, w.calls, this.failureRate) || rateExceeded(w.slow, w.calls, this.slowRate)) {
      this.open(false);
    }
  }

  private recover<T>(error: unknown): Promise<T> {
    try {
      return Promise.resolve(this.fallback?.(error) as T);
    } catch (fallbackError) {
      return Promise.reject(fallbackError);
    }
  }

  private runWithTimeout<T>(
    fn: (context: CallContext) => T | PromiseLike<T>,
    generation: number,
    startedAt: number,
  ): Promise<T> {
    if (!this.deadlines) this.deadlines = new DeadlineQueue();
    const call = new TimedCall<T>(
      this,
      this.deadlines,
      generation,
      startedAt,
      Date.now() + (this.callTimeoutMs as number),
    );
    let pending: T | PromiseLike<T>;
    try {
      pending = fn(call);
    } catch (error) {
      call.settle(this.failed<T>(generation, startedAt, error));
      return call.promise;
    }
    // A call that already timed out was counted as a failure; its late outcome is ignored.
    Promise.resolve(pending).then(
      (result) => {
        if (!call.settled) call.settle(this.succeeded(generation, startedAt, result));
      },
      (error) => {
        if (!call.settled) call.settle(this.failed<T>(generation, startedAt, error));
      },
    );
    return call.promise;
  }

  /** Ends a timed call that ran past `callTimeout`. */
  timedOut<T>(call: TimedCall<T>): void {
    const error = new CallTimeoutError((this.callTimeoutMs as number) / 1000, `Call through circuit "${this.name}"`);
    call.abort(error);
    call.resolveWith(this.failed<T>(call.generation, call.startedAt, error));
  }

  private open(fromHalfOpen: boolean): void {
    this.reopens = fromHalfOpen ? this.reopens + 1 : 0;
    const duration = Math.min(this.maxOpenMs, this.openMs * this.timeoutMultiplier ** this.reopens);
    this.openUntil = this.clock.now() + Math.max(this.openMs <= this.maxOpenMs ? this.openMs : 0, duration);
    this.transition('open');
  }

  private transition(to: CircuitState): void {
    const from = this.currentState;
    this.currentState = to;
    this.generation++;
    this.trialsInFlight = 0;
    this.consecutiveSuccesses = 0;
    this.consecutiveFailures = 0;
    if (to === 'closed') {
      this.reopens = 0;
      this.window?.reset();
    }
    if (from === to) return;
    for (const l of this.listeners) if (l.onStateChange) safely(() => l.onStateChange?.(from, to, this.name));
  }

  /** Opens the breaker until forceClose() or reset(); no trial is admitted meanwhile. */
  forceOpen(): void {
    this.disabled = false;
    this.forced = true;
    this.openUntil = Number.POSITIVE_INFINITY;
    this.transition('open');
  }

  /** Closes the breaker now (counts start afresh). */
  forceClose(): void {
    this.forced = false;
    this.transition('closed');
  }

  /** Turns the breaker into a pass-through that records nothing, until reset(). */
  disable(): void {
    this.disabled = true;
    this.forced = false;
    this.transition('closed');
  }

  /** Back to a fresh CLOSED breaker: counters, window, forced and disabled flags cleared. */
  reset(): void {
    this.disabled = false;
    this.forced = false;
    this.reopens = 0;
    this.transition('closed');
  }

  /** Counters of the current window (rate mode) and consecutive counts. */
  metrics(): {
    state: CircuitState;
    consecutiveFailures: number;
    consecutiveSuccesses: number;
    calls: number;
    failures: number;
    slow: number;
  } {
    const totals = this.window?.totals(this.clock.now()) ?? { calls: 0, failures: 0, slow: 0 };
    return {
      state: this.state,
      consecutiveFailures: this.consecutiveFailures,
      consecutiveSuccesses: this.consecutiveSuccesses,
      ...totals,
    };
  }

  snapshot(): CircuitBreakerSnapshot {
    return {
      version: 1,
      name: this.name,
      state: this.currentState,
      forced: this.forced,
      disabled: this.disabled,
      openUntil: Number.isFinite(this.openUntil) ? this.openUntil : -1,
      consecutiveFailures: this.consecutiveFailures,
      consecutiveSuccesses: this.consecutiveSuccesses,
      reopens: this.reopens,
      window: this.window?.toJSON(),
    };
  }

  /** Restores a snapshot(); calls in flight from before it change nothing when they end. */
  restore(snapshot: CircuitBreakerSnapshot): void {
    const problems = validateSnapshot(snapshot, this.window);
    if (problems.length) throw new TypeError(`Invalid circuit breaker snapshot: ${problems.join('; ')}`);
    const from = this.currentState;
    this.generation++;
    this.trialsInFlight = 0;
    this.currentState = snapshot.state;
    this.forced = snapshot.forced;
    this.disabled = snapshot.disabled;
    this.openUntil = snapshot.forced ? Number.POSITIVE_INFINITY : snapshot.openUntil;
    this.consecutiveFailures = snapshot.consecutiveFailures;
    this.consecutiveSuccesses = snapshot.consecutiveSuccesses;
    this.reopens = snapshot.reopens;
    if (this.window && snapshot.window) {
      const restored =
        snapshot.window.type === 'count' ? CountWindow.from(snapshot.window) : TimeWindow.from(snapshot.window);
      Object.assign(this.window, restored);
    }
    if (from !== this.currentState) {
      for (const l of this.listeners)
        if (l.onStateChange) safely(() => l.onStateChange?.(from, this.currentState, this.name));
    }
  }
}
