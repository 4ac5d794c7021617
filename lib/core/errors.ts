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

  /**
   * A rejection is an expected outcome, not a bug: no stack trace is captured (it is
   * most of an error's cost); `stack` holds the message.
   */
  static stackless(circuit: string, retryAfter: number): CircuitOpenError {
    const error = Object.create(CircuitOpenError.prototype) as { circuit: string; retryAfter: number };
    error.circuit = circuit;
    error.retryAfter = retryAfter;
    return error as CircuitOpenError;
  }
}
// A stackless instance has no own `message` or `stack`: they are computed when read.
lazyMessage(CircuitOpenError.prototype, 'CircuitOpenError', function (this: CircuitOpenError) {
  return `Circuit "${this.circuit}" is open; retry after ${this.retryAfter}s`;
});

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

  /** A denial is an expected outcome: no stack trace is captured (see CircuitOpenError.stackless). */
  static stackless(details: RateLimitDetails): RateLimitExceededError {
    const error = Object.create(RateLimitExceededError.prototype) as Record<string, unknown>;
    error.retryAfter = details.retryAfter;
    error.limiter = details.limiter;
    error.limit = details.limit;
    error.remaining = details.remaining ?? 0;
    error.resetAfter = details.resetAfter;
    error.window = details.window;
    return error as unknown as RateLimitExceededError;
  }
}
lazyMessage(RateLimitExceededError.prototype, 'RateLimitExceededError', function (this: RateLimitExceededError) {
  return `Rate limit${this.limiter ? ` "${this.limiter}"` : ''} exceeded; retry after ${this.retryAfter}s`;
});

/** Why a bulkhead turned a call away. */
export type BulkheadRejection = 'full' | 'queue_timeout';

/**
 * Thrown when a bulkhead turns a call away: every slot taken and the queue full (`full`),
 * or the call waited its `queueTimeout` in the queue (`queue_timeout`). Our own load
 * shedding, not the dependency failing: a breaker does not count it.
 */
export class BulkheadRejectedError extends ResilienceError {
  /** Seconds after which a slot is likely free. */
  readonly retryAfter: number;
  /** The bulkhead's name. */
  readonly bulkhead: string;
  readonly reason: BulkheadRejection;

  constructor(bulkhead: string, reason: BulkheadRejection, retryAfter: number) {
    super(bulkheadMessage(bulkhead, reason, retryAfter));
    this.bulkhead = bulkhead;
    this.reason = reason;
    this.retryAfter = retryAfter;
  }

  /** A rejection is an expected outcome: no stack trace is captured (see CircuitOpenError.stackless). */
  static stackless(bulkhead: string, reason: BulkheadRejection, retryAfter: number): BulkheadRejectedError {
    const error = Object.create(BulkheadRejectedError.prototype) as Record<string, unknown>;
    error.bulkhead = bulkhead;
    error.reason = reason;
    error.retryAfter = retryAfter;
    return error as unknown as BulkheadRejectedError;
  }
}
const bulkheadMessage = (bulkhead: string, reason: BulkheadRejection, retryAfter: number) =>
  `Bulkhead "${bulkhead}" ${reason === 'full' ? 'is full' : 'queue wait timed out'}; retry after ${retryAfter}s`;
lazyMessage(BulkheadRejectedError.prototype, 'BulkheadRejectedError', function (this: BulkheadRejectedError) {
  return bulkheadMessage(this.bulkhead, this.reason, this.retryAfter);
});

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
 * A call (or one attempt) that ran past its `timeout` (the timeout pattern): its operation's
 * signal was aborted with this error. `code` ETIMEDOUT and the name put it in the TimeoutError
 * family (retried by default, counted by breakers). Over HTTP: 504.
 */
export class TimeoutError extends ResilienceError {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  /** The timeout, in seconds. */
  readonly timeout: number;
  /** 'call': the whole call, retries included; 'attempt': one attempt. */
  readonly per: 'call' | 'attempt';

  constructor(timeout: number, per: 'call' | 'attempt' = 'call') {
    super(`${per === 'call' ? 'Call' : 'Attempt'} timed out after ${timeout}s`);
    this.timeout = timeout;
    this.per = per;
  }
}

/**
 * Gives a prototype `message` and `stack` getters (and its `name`), used by instances made
 * with Object.create: they format their message only if someone reads it.
 */
function lazyMessage(prototype: Error, name: string, message: (this: never) => string): void {
  Object.defineProperties(prototype, {
    name: { value: name, writable: true, configurable: true },
    message: { get: message, configurable: true },
    stack: {
      get(this: Error) {
        return `${this.name}: ${this.message}`;
      },
      configurable: true,
    },
  });
}

/**
 * The call's deadline (its caller's, propagated in a header, or `@Deadline`'s) passed: the
 * caller has given up, so nothing more is done for it. A cancellation, not a failure of the
 * dependency: never retried, never counted by a breaker. Over HTTP: 504.
 */
export class DeadlineExceededError extends ResilienceError {
  override readonly name = 'DeadlineExceededError';
  readonly code = 'DEADLINE_EXCEEDED';
  /** Milliseconds past the deadline when the call was refused or stopped (0 at the deadline itself). */
  readonly lateBy: number;

  constructor(lateBy = 0) {
    super(lateBy > 0 ? `The call's deadline passed ${Math.round(lateBy)} ms ago` : "The call's deadline passed");
    this.lateBy = lateBy;
  }
}

/**
 * The application is shutting down: a call that waited (a retry's backoff, a bulkhead's queue,
 * a breaker's callTimeout on an operation that never settles) ends with this, at once, so
 * neither app.close() nor the process waits for it. Over HTTP: 503 with Connection: close.
 */
export class ApplicationShutdownError extends ResilienceError {
  constructor(message = 'The application is shutting down; the call was cancelled') {
    super(message);
  }
}

/** A call waiting for its turn ('wait' mode) when the application shut down. */
export class RateLimiterShutdownError extends ResilienceError {
  constructor() {
    super('the application is shutting down: a call waiting for its rate-limit turn was cancelled');
  }
}

/** A queue name nobody configured or declared: never created from input such as a URL. */
export class UnknownDeadLetterQueueError extends ResilienceError {
  constructor(readonly queue: string) {
    super(
      `dead-letter queue ${JSON.stringify(queue)} is not configured: declare it under deadLetter.queues (or services), use it from @DeadLetter / @Resilient, or set deadLetter.allowDynamicQueues`,
    );
  }
}

/**
 * A fleet-wide chaos change could not reach Redis. A start is refused (no experiment that runs
 * on one replica while the operator believes it runs on all); a stop has already ended the
 * experiments on this replica, and the others end each experiment at its own end time.
 */
export class ChaosFleetUnavailableError extends ResilienceError {
  constructor(what: string, cause: unknown) {
    super(`${what}: Redis is unreachable (${(cause as Error)?.message ?? cause})`, { cause });
  }
}
