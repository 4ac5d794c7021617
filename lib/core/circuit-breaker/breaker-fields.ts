import { type Clock, systemClock } from '../clock.js';
import type { DeadlineQueue } from '../deadline-queue.js';
import { type CircuitBreakerEventSources, circuitBreakerEventSources, subscribeListener } from './breaker-events.js';
import { RateRule } from './opening-rules.js';
import { breakerSettings } from './options.js';
import type { CircuitBreakerOptions, CircuitState } from './types.js';

/**
 * What a breaker knows: its settings (checked, in milliseconds) and its state. The state
 * machine that moves it is CircuitBreakerCore (breaker-core.ts).
 */
export abstract class CircuitBreakerFields {
  readonly name: string;
  protected readonly failureThreshold: number;
  protected readonly successThreshold: number;
  protected readonly openMs: number;
  protected readonly maxOpenMs: number;
  protected readonly timeoutMultiplier: number;
  protected readonly halfOpenMaxCalls: number;
  protected readonly trialLeaseMs: number;
  /** When the oldest trial holding a slot was admitted. */
  protected trialsSince = 0;
  protected readonly slowMs?: number;
  protected readonly callTimeoutMs?: number;
  protected readonly isFailure: (error: unknown) => boolean;
  protected readonly isResultFailure?: (result: unknown) => boolean;
  protected readonly fallback?: (error: unknown) => unknown;
  protected readonly clock: Clock;
  /** Rate mode: the failure and slow-call rates over a sliding window. */
  protected readonly rateRule?: RateRule;
  /** Its events: the one path for metrics, tracing, the module and user listeners. */
  protected readonly events: CircuitBreakerEventSources = circuitBreakerEventSources();
  protected deadlines?: DeadlineQueue;
  protected readonly fastPath: boolean;
  protected observers?: {
    generation: number;
    onResult: (result: unknown) => unknown;
    onError: (error: unknown) => Promise<never>;
  };

  protected currentState: CircuitState = 'closed';
  protected generation = 0;
  protected consecutiveFailures = 0;
  protected consecutiveSuccesses = 0;
  protected trialsInFlight = 0;
  protected openUntil = 0;
  protected reopens = 0;
  protected forced = false;
  /** The most important class (rank) of call seen while not closed, and when: half-open trials are its. */
  protected trialRank = Number.POSITIVE_INFINITY;
  protected trialRankSeenAt = Number.NEGATIVE_INFINITY;
  protected disabled: boolean;
  /**
   * A report the last counted failure started (a shared breaker's round trip to its
   * fleet): the failing call settles after it, so its caller's next call sees the
   * fleet's answer. Undefined for a local breaker.
   */
  protected pendingReport?: Promise<void>;

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
    this.slowMs = settings.slowMs;
    this.callTimeoutMs = settings.callTimeoutMs;
    this.isFailure = settings.isFailure;
    this.rateRule = settings.window
      ? new RateRule(settings.window, settings.minimumCalls, settings.failureRate, settings.slowRate)
      : undefined;
    this.isResultFailure = options.isResultFailure;
    this.fallback = options.fallback;
    this.clock = options.clock ?? systemClock;
    this.disabled = options.enabled === false;
    this.fastPath =
      this.slowMs === undefined && this.callTimeoutMs === undefined && !this.fallback && !this.isResultFailure;
    if (options.onStateChange) subscribeListener(this.events, { onStateChange: options.onStateChange });
  }
}
