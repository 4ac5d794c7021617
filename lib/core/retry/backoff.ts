/** How a computed delay is spread (AWS "Exponential Backoff and Jitter", plus the guide's ±10%). */
/** The named jitter kinds (also what the configuration schema accepts). */
export const JITTER_KINDS = ['full', 'equal', 'decorrelated'] as const;
export type Jitter = boolean | (typeof JITTER_KINDS)[number] | number;

/** The guide's `jitter=True`: ±10% of the computed delay. */
export const GUIDE_JITTER_RATIO = 0.1;

export interface BackoffOptions {
  /** Milliseconds. */
  baseDelayMs: number;
  /** Milliseconds. */
  maxDelayMs: number;
  exponentialBase: number;
  jitter: Jitter;
  /** A source of uniform numbers in [0, 1); injectable so schedules are exact in tests. */
  random: () => number;
}

/**
 * The guide's schedule: the wait before attempt `n` (n >= 2) is
 * `baseDelay * exponentialBase^(n - 2)`, capped at maxDelay. Finite and positive
 * at any attempt number (an exponent that overflows is the cap, never NaN).
 */
export function plainDelay(
  attempt: number,
  o: Pick<BackoffOptions, 'baseDelayMs' | 'maxDelayMs' | 'exponentialBase'>,
): number {
  if (o.baseDelayMs <= 0) return 0;
  const raw = o.baseDelayMs * o.exponentialBase ** Math.max(0, attempt - 2);
  return Number.isFinite(raw) ? Math.min(raw, o.maxDelayMs) : o.maxDelayMs;
}

/**
 * The wait before `attempt`, jitter applied. `previousMs` is the previous wait (for
 * decorrelated jitter). Never above maxDelay; never NaN; zero only when baseDelay is 0.
 */
export function backoffDelay(attempt: number, previousMs: number, o: BackoffOptions): number {
  const d = plainDelay(attempt, o);
  if (d === 0) return 0;
  const u = o.random();
  switch (o.jitter) {
    case false:
      return d;
    case 'full':
      // U(0, d], never exactly zero.
      return d * (1 - u);
    case 'equal':
      return d / 2 + (d / 2) * u;
    case 'decorrelated': {
      // min(cap, U(base, prev * 3)); the first retry starts from base.
      const previous = Math.max(o.baseDelayMs, previousMs || o.baseDelayMs);
      const upper = Math.min(o.maxDelayMs, previous * 3);
      return Math.min(o.maxDelayMs, o.baseDelayMs + (upper - o.baseDelayMs) * u);
    }
    default: {
      const ratio = o.jitter === true ? GUIDE_JITTER_RATIO : o.jitter;
      return Math.min(o.maxDelayMs, d * (1 + ratio * (2 * u - 1)));
    }
  }
}
