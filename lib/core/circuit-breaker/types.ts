import type { Clock } from '../clock.js';
import type { Duration } from '../duration.js';
import type { ErrorMatcher } from '../error-matchers.js';
import type { OutcomeWindow, WindowSnapshot } from './window.js';

export type CircuitState = 'closed' | 'open' | 'half_open';
export type StateChangeListener = (oldState: CircuitState, newState: CircuitState, name: string) => void;

/** Numeric state as the guide's `circuit_breaker_state` gauge has it. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, half_open: 1, open: 2 };

/** What the operation receives: an AbortSignal when `callTimeout` is set. */
export interface CallContext {
  readonly signal?: AbortSignal;
}

export interface CircuitBreakerOptions {
  /** Consecutive counted failures in CLOSED that open the breaker (guide: failure_threshold). Default 5. */
  failureThreshold?: number;
  /** Consecutive successes in HALF_OPEN that close it (guide: success_threshold). Default 2. */
  successThreshold?: number;
  /** Time OPEN before a trial (guide: timeout). Seconds or a string with a unit. Default 60. */
  timeout?: Duration;
  /**
   * Errors that count as failures; others pass through uncounted. Default: every error but
   * an HTTP 4xx other than 408 and 429 (countsAsFailureByDefault).
   */
  expectedExceptions?: ErrorMatcher[];
  /** Decides which errors count; replaces `expectedExceptions`. */
  isFailure?: (error: unknown) => boolean;
  /** Counts a returned value as a failure (the value is still returned). */
  isResultFailure?: (result: unknown) => boolean;
  onStateChange?: StateChangeListener;
  /** Loaded from at creation, saved to at every state change (see CircuitStateStore). */
  stateStore?: CircuitStateStore;
  /** Failure-rate mode: open when this percentage of the window failed (with at least `minimumCalls`). */
  failureRateThreshold?: number;
  /** 'count' (last N calls, default) or 'time' (last N seconds). */
  slidingWindowType?: 'count' | 'time';
  /** N for the window. Default 100 calls, or 60 seconds. */
  slidingWindowSize?: number;
  /** Rate mode: your own window of outcomes (e.g. one shared with a dashboard) instead of one built from slidingWindowType/Size. */
  window?: OutcomeWindow;
  /** Calls the window must hold before a rate is judged. Default 10. */
  minimumCalls?: number;
  /** A call at least this slow counts as slow. */
  slowCallDuration?: Duration;
  /** Open when this percentage of the window was slow. */
  slowCallRateThreshold?: number;
  /** Trial calls admitted at once in HALF_OPEN; every other call is rejected at once. Default 1. */
  halfOpenMaxCalls?: number;
  /**
   * How long a half-open trial holds its slot at most. A trial that never settles (a hung
   * call with no callTimeout) would otherwise wedge the breaker half-open for ever; after
   * this lease its slot is free and its late result is ignored. Default: `timeout`.
   */
  halfOpenTrialTimeout?: Duration;
  /** Each re-open from HALF_OPEN multiplies the open time by this (flapping fix). Default 1. */
  timeoutMultiplier?: number;
  /** Cap of the growing open time. Default 10 x timeout. */
  maxTimeout?: Duration;
  /** Per-call timeout; the operation gets an AbortSignal and the call fails with CallTimeoutError. */
  callTimeout?: Duration;
  /** Called with the error instead of failing (on rejection, timeout or failure). */
  fallback?: (error: unknown) => unknown;
  /** false: a pass-through breaker that records nothing. */
  enabled?: boolean;
  clock?: Clock;
}

/** Observers of a breaker (metrics, health, logs). Errors thrown by them are swallowed. */
export interface CircuitBreakerListener {
  onStateChange?(from: CircuitState, to: CircuitState, name: string): void;
  onSuccess?(name: string): void;
  /** A failure that counted. */
  onFailure?(name: string, error: unknown): void;
  onRejection?(name: string): void;
}

/** A breaker's state as JSON: enough to restore it elsewhere (another process, after a restart). */
export interface CircuitBreakerSnapshot {
  version: 1;
  name: string;
  state: CircuitState;
  forced: boolean;
  disabled: boolean;
  /** Epoch ms at which OPEN admits a trial. */
  openUntil: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  reopens: number;
  window?: WindowSnapshot;
}

/**
 * Where a breaker's state lives beyond the process's own memory: read once when the
 * breaker is created, written at every state change (a store shared by replicas can
 * implement it: the breaker calls it synchronously and never waits on it).
 */
export interface CircuitStateStore {
  load(name: string): CircuitBreakerSnapshot | undefined;
  save(snapshot: CircuitBreakerSnapshot): void;
}
