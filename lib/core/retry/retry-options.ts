import type { ExtraAttemptBudget } from '../budget/extra-attempt-budget.js';
import type { Clock } from '../clock.js';
import type { Duration } from '../duration.js';
import type { ErrorMatcher } from '../error-matchers.js';
import type { Jitter } from './backoff.js';
import type { RetryBudget } from './budget.js';
import type { Sleep } from './sleep.js';

export interface RetryContext {
  /** 1 for the first try. */
  readonly attempt: number;
  readonly signal?: AbortSignal;
}

export interface RetryEvent {
  /** The attempt about to run (2 for the first retry). */
  attempt: number;
  /** Seconds waited before it. */
  delay: number;
  /** What the previous attempt threw (undefined when its result was retried). */
  error?: unknown;
  result?: unknown;
}

export interface RetryOptions {
  /** Total tries, the first included (guide: max_attempts). Default 3. */
  maxAttempts?: number;
  /** Seconds or a string with a unit. Default 1. */
  baseDelay?: Duration;
  /** Default 60. */
  maxDelay?: Duration;
  /** 1 = linear, 2 = exponential, 3 = aggressive. Default 2. */
  exponentialBase?: number;
  /** true = ±10% (the guide's); 'full' | 'equal' | 'decorrelated'; a ratio; false. Default true. */
  jitter?: Jitter;
  /** Errors that are retried. Default: every error that can succeed on a retry (see isPermanentError). */
  retryableExceptions?: ErrorMatcher[];
  /** Decides which errors are retried; replaces `retryableExceptions`. */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Retries a result too (e.g. a 503 response object); the last one is returned when attempts run out. */
  retryOnResult?: (result: unknown) => boolean;
  /** Give up when the next wait would take the total waiting past this. */
  maxTotalDelay?: Duration;
  /** Give up when the next wait would end past this time after the first try started. */
  deadline?: Duration;
  /**
   * Retry budget: gRPC's token bucket (`{ maxTokens, tokenRatio }`) or a share of the calls
   * (`{ ratio, minPerSecond }`, an ExtraAttemptBudget) of this policy's own; or a RetryBudget or
   * ExtraAttemptBudget to share (an ExtraAttemptBudget is shared with hedges too).
   */
  budget?:
    | { maxTokens: number; tokenRatio: number }
    | { ratio: number; minPerSecond?: number; windowSeconds?: number }
    | RetryBudget
    | ExtraAttemptBudget;
  onRetry?: (event: RetryEvent) => void;
  /** Called once per call with the attempts it took, whether it succeeded or gave up. */
  onComplete?: (attempts: number, succeeded: boolean) => void;
  clock?: Clock;
  random?: () => number;
  sleep?: Sleep;
  /** Cancels every wait of this policy (e.g. on application shutdown); the call rejects with its reason. */
  abortWaits?: AbortSignal;
}

/** How a call through a retry policy ended. */
export interface RetryOutcome {
  /** Attempts made, the first included. */
  attempts: number;
  succeeded: boolean;
}
