/** Base class of every error this library throws on its own account. */
export class ResilienceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown instead of calling the operation while a circuit breaker is open (or its half-open trials are taken). */
export class CircuitOpenError extends ResilienceError {
  /** Seconds until the breaker admits a trial call. */
  readonly retryAfter: number;
  /** The breaker's name. */
  readonly circuit: string;

  constructor(circuit: string, retryAfter: number, message?: string) {
    super(message ?? `Circuit "${circuit}" is open; retry after ${retryAfter}s`);
    this.circuit = circuit;
    this.retryAfter = retryAfter;
  }
}

export interface RateLimitDetails {
  /** Seconds until the call would be admitted. */
  retryAfter: number;
  /** The limiter's configured name (never the raw key). */
  limiter?: string;
  /** Requests allowed per window. */
  limit?: number;
  /** Requests left in the window (0 when rejected). */
  remaining?: number;
  /** Seconds until the quota is fully restored. */
  resetAfter?: number;
  /** Window length in seconds. */
  window?: number;
}

/** Thrown when a rate limiter rejects a call. */
export class RateLimitExceededError extends ResilienceError {
  readonly retryAfter: number;
  readonly limiter?: string;
  readonly limit?: number;
  readonly remaining: number;
  readonly resetAfter?: number;
  readonly window?: number;

  constructor(details: RateLimitDetails, message?: string) {
    super(
      message ??
        `Rate limit${details.limiter ? ` "${details.limiter}"` : ''} exceeded; retry after ${details.retryAfter}s`,
    );
    this.retryAfter = details.retryAfter;
    this.limiter = details.limiter;
    this.limit = details.limit;
    this.remaining = details.remaining ?? 0;
    this.resetAfter = details.resetAfter;
    this.window = details.window;
  }
}

/** One problem found in a configuration, with the path of the offending value. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** Thrown once, listing every problem, when a configuration is invalid. */
export class ResilienceConfigError extends ResilienceError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], heading = 'Invalid resilience configuration') {
    const count = issues.length;
    super(
      `${heading} (${count} problem${count === 1 ? '' : 's'}):\n${issues.map((i) => `  - ${formatConfigIssue(i)}`).join('\n')}`,
    );
    this.issues = issues;
  }
}

/** A call that ran past its `callTimeout`; `code` is ETIMEDOUT so the TimeoutError family matches it. */
export class CallTimeoutError extends ResilienceError {
  readonly code = 'ETIMEDOUT';
  /** The timeout, in seconds. */
  readonly timeout: number;

  constructor(timeout: number, what = 'Call') {
    super(`${what} timed out after ${timeout}s`);
    this.timeout = timeout;
  }
}

/**
 * Builds an error without capturing a stack trace: rejections on a hot path (an open
 * breaker, a full rate limit) are expected outcomes, and the trace is most of their cost.
 */
export function withoutStack<E extends Error>(build: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
