import { z } from 'zod';
import type { StateChangeListener } from '../../core/circuit-breaker/types.js';
import { duration, errorMatchers, fn, percent, positiveInt, strict } from '../schema-parts.js';

// The circuit breaker's settings: its section of the configuration schema (the schema adds
// `preset` and `why`), its presets, and what the base layer fills. One entry of the
// pattern table (./index.ts).

/** A rate the breaker opens *above*: under 100, or it could never open. */
const ratePercent = z
  .number()
  .gt(0)
  .lt(100, { message: 'must be < 100: the breaker opens above the threshold, so at 100 it never would' });

/**
 * Circuit breaker settings: the core breaker's options (the guide's five first:
 * failureThreshold, successThreshold, timeout, expectedExceptions, onStateChange).
 */
const fields = {
  /** Consecutive counted failures in CLOSED that open the breaker (guide: failure_threshold). Default 5. */
  failureThreshold: positiveInt,
  /** Consecutive successes in HALF_OPEN that close it (guide: success_threshold). Default 2. */
  successThreshold: positiveInt,
  /** Time OPEN before a trial (guide: timeout). Seconds or a string with a unit. Default 60. */
  timeout: duration({ positive: true }),
  /** Errors that count as failures; others pass through uncounted. Default: all but an HTTP 4xx other than 408 and 429. */
  expectedExceptions: errorMatchers,
  onStateChange: fn<StateChangeListener>('onStateChange'),
  /** Decides which errors count; replaces `expectedExceptions`. */
  isFailure: fn<(error: unknown) => boolean>('isFailure'),
  /** Counts a returned value as a failure (the value is still returned). */
  isResultFailure: fn<(result: unknown) => boolean>('isResultFailure'),
  /** Called with the error instead of failing (on rejection, timeout or counted failure). */
  fallback: fn<(error: unknown) => unknown>('fallback'),
  /** Failure-rate mode: open when this percentage of the window failed (with at least `minimumCalls`). */
  failureRateThreshold: ratePercent,
  /** 'count' (last N calls, default) or 'time' (last N seconds). */
  slidingWindowType: z.enum(['count', 'time']),
  /** N for the window. Default 100 calls, or 60 seconds. */
  slidingWindowSize: positiveInt,
  /** Calls the window must hold before a rate is judged. Default 10. */
  minimumCalls: positiveInt,
  /** A call at least this slow counts as slow. */
  slowCallDuration: duration({ positive: true }),
  /** Open when this percentage of the window was slow. */
  slowCallRateThreshold: ratePercent,
  /** Trial calls admitted at once in HALF_OPEN; every other call is rejected at once. Default 1. */
  halfOpenMaxCalls: positiveInt,
  /** How long a half-open trial holds its slot at most. Default: `timeout`. */
  halfOpenTrialTimeout: duration({ positive: true }),
  /** Each re-open from HALF_OPEN multiplies the open time by this (flapping fix). Default 1. */
  timeoutMultiplier: z.number().min(1),
  /** Cap of the growing open time. Default 10 x timeout. */
  maxTimeout: duration({ positive: true }),
  /** Per-call timeout; the operation gets an AbortSignal and the call fails with CallTimeoutError. */
  callTimeout: duration({ positive: true }),
  /** false: a pass-through breaker that records nothing. */
  enabled: z.boolean(),
  /**
   * Where the state lives: 'local' (this process; default), 'shared' (one state machine in
   * Redis for every replica), 'quorum' (each replica its own; all open while a quorum of the
   * live replicas is open). 'shared' and 'quorum' need `redis`.
   */
  scope: z.enum(['local', 'shared', 'quorum']),
  /**
   * Scope 'quorum': the open replicas that open every replica, as a count or a percentage of
   * the fleet (one of the two). The fleet for a percentage is the most replicas live in the
   * last 10 minutes, at least `fleetSize` when given: a partition cannot shrink it.
   */
  quorum: strict({ replicas: positiveInt, percent, fleetSize: positiveInt }).partial(),
};

/** The section as a user writes it, without `preset`: what every preset must be. */
const section = strict(fields).partial();

/**
 * Every named configuration of the resilience configuration guide, with the values
 * it states (durations in seconds). Fields the guide leaves unset are unset here too,
 * so the layer below (defaults, profile, tier) supplies them. The guide's example
 * hosts, paths, queue URLs and regions are deployment facts, not preset values, and
 * are left out.
 */
const presets = {
  /** "Basic Configuration": the conservative default. */
  default: {
    failureThreshold: 5,
    successThreshold: 2,
    timeout: 60,
    expectedExceptions: ['ConnectionError', 'TimeoutError', 'HTTPError', 'ServiceUnavailableError'],
  },
  development: { failureThreshold: 10, successThreshold: 1, timeout: 30, expectedExceptions: ['Exception'] },
  staging: {
    failureThreshold: 5,
    successThreshold: 2,
    timeout: 45,
    expectedExceptions: ['ConnectionError', 'TimeoutError', 'HTTPError'],
  },
  production: {
    failureThreshold: 3,
    successThreshold: 3,
    timeout: 120,
    expectedExceptions: ['ConnectionError', 'TimeoutError', 'ReadTimeoutError', 'HTTPError'],
  },
  critical: {
    failureThreshold: 2,
    successThreshold: 5,
    timeout: 180,
    expectedExceptions: ['ConnectionError', 'TimeoutError'],
  },
  nonCritical: { failureThreshold: 10, successThreshold: 2, timeout: 30, expectedExceptions: ['Exception'] },
  external: {
    failureThreshold: 5,
    successThreshold: 3,
    timeout: 300,
    expectedExceptions: ['RequestException', 'TimeoutError', 'HTTPError'],
  },
} as const satisfies Record<string, z.input<typeof section>>;

export const circuitPattern = {
  /** The key of the pattern's section in a tier, a service, a call site and the metrics. */
  key: 'circuit' as const,
  fields,
  presets,
  /** The layer under every other: the guide's class defaults. */
  base: { failureThreshold: 5, successThreshold: 2, timeout: 60, halfOpenMaxCalls: 1, enabled: true } satisfies z.input<
    typeof section
  >,
  /**
   * A consecutive `failureThreshold` belongs to the count mode: once a layer asks for rate
   * mode (a failure or slow-call rate threshold) without setting one, the one inherited from
   * below (the base's 5, a preset's) no longer applies, so a breaker with `minimumCalls: 50`
   * does not open at the 5th failure. A layer at or above it can set one.
   */
  afterMerge(merged: Record<string, unknown>, layers: readonly object[]): void {
    let rate = -1;
    let count = -1;
    for (const [index, l] of layers.entries()) {
      const fields = l as Record<string, unknown>;
      if (fields.failureRateThreshold !== undefined || fields.slowCallRateThreshold !== undefined) rate = index;
      if (fields.failureThreshold !== undefined) count = index;
    }
    if (rate > count) delete merged.failureThreshold;
  },
};
