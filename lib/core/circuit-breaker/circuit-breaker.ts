import type { Event } from '../events.js';
import { CircuitBreakerCore } from './breaker-core.js';
import { type CircuitBreakerEvents, subscribeListener } from './breaker-events.js';
import { validateSnapshot } from './snapshot.js';
import type { CircuitStateStore } from './state-store.js';
import type { CircuitBreakerListener, CircuitBreakerOptions, CircuitBreakerSnapshot, CircuitState } from './types.js';
import { CountWindow, TimeWindow } from './window.js';

/**
 * The guide's circuit breaker, with resilience4j's rate and slow-call modes (the state
 * machine is CircuitBreakerCore), and the controls an operator needs: force open or
 * closed, disable, reset, counters, and a snapshot to carry state across restarts.
 */
export class CircuitBreakerPolicy extends CircuitBreakerCore {
  private readonly stateStore?: CircuitStateStore;
  /** Every state change. Subscribe at any time (the same as subscribe({ onStateChange })). */
  readonly onStateChange: Event<CircuitBreakerEvents['stateChange']> = this.events.stateChange.event;
  /** A counted call succeeded. */
  readonly onSuccess: Event<CircuitBreakerEvents['success']> = this.events.success.event;
  /** A counted failure. */
  readonly onFailure: Event<CircuitBreakerEvents['failure']> = this.events.failure.event;
  /** A call turned away while open (or while every half-open trial slot was taken). */
  readonly onRejection: Event<CircuitBreakerEvents['rejection']> = this.events.rejection.event;

  constructor(name = 'default', options: CircuitBreakerOptions = {}) {
    super(name, options);
    const saved = options.stateStore?.load(this.name);
    if (saved) this.restore(saved);
    // Set after the restore: loading a state does not write it back.
    this.stateStore = options.stateStore;
  }

  protected stateChanged(): void {
    this.stateStore?.save(this.snapshot());
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

  /** Adds an observer; returns a function that removes it. */
  subscribe(listener: CircuitBreakerListener): () => void {
    return subscribeListener(this.events, listener);
  }

  /**
   * For a call execute() cannot wrap (resilience4j's tryAcquirePermission): a permission to
   * make one call, or undefined when the breaker turns it away (its onRejection listeners
   * hear it). Report the call's end with onCallEnded. Local breakers only.
   */
  tryAcquirePermission(): number | undefined {
    const permission = this.admit();
    if (permission === undefined) {
      if (this.events.rejection.hasListeners) this.events.rejection.emit({ name: this.name });
    }
    return permission;
  }

  /** The end of a call admitted by tryAcquirePermission: a success, or a failure with `error` (counted if isFailure says so). */
  onCallEnded(permission: number, error?: unknown, startedAt = this.clock.now()): void {
    if (error === undefined) this.succeeded(permission, startedAt, undefined);
    else this.failed(permission, startedAt, error).catch(() => {});
  }

  /** True when a fallback answers for counted failures and rejected calls. */
  get hasFallback(): boolean {
    return this.fallback !== undefined;
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
    const totals = this.rateRule?.window?.totals(this.clock.now()) ?? { calls: 0, failures: 0, slow: 0 };
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
      window: this.rateRule?.window?.toJSON(),
    };
  }

  /** Restores a snapshot(); calls in flight from before it change nothing when they end. */
  restore(snapshot: CircuitBreakerSnapshot): void {
    const problems = validateSnapshot(snapshot, this.rateRule?.window);
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
    const window = this.rateRule?.window;
    if (window && snapshot.window) {
      const restored =
        snapshot.window.type === 'count' ? CountWindow.from(snapshot.window) : TimeWindow.from(snapshot.window);
      Object.assign(window, restored);
    }
    if (from !== this.currentState) this.events.stateChange.emit({ from, to: this.currentState, name: this.name });
    this.stateChanged();
  }
}
