import { BulkheadPolicy } from '../bulkhead/bulkhead.js';
import { CircuitBreakerPolicy } from '../circuit-breaker/circuit-breaker.js';
import { DeadLetterQueue } from '../dead-letter/dead-letter-queue.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import { RetryPolicy } from '../retry/retry-policy.js';
import { bulkheadStage } from './bulkhead-stage.js';
import { circuitBreakerStage } from './circuit-breaker-stage.js';
import { compose } from './compose.js';
import { createContext, type ResilienceContext } from './context.js';
import { type DeadLetterStageOptions, deadLetterStage } from './dead-letter-stage.js';
import { type RateLimitStageOptions, rateLimitStage } from './rate-limit-stage.js';
import { retryStage } from './retry-stage.js';
import type { Next, Stage } from './stage.js';

/** The guide's patterns, any of them; `stages` adds stages of your own (their kinds in `order`). */
export interface ResiliencePipelineParts {
  rateLimiter?: RateLimiter | RateLimitStageOptions;
  circuitBreaker?: CircuitBreakerPolicy;
  retry?: RetryPolicy;
  deadLetter?: DeadLetterQueue | DeadLetterStageOptions;
  /** Around each attempt, innermost. */
  bulkhead?: BulkheadPolicy;
  /** The rate-limit key of a call from its arguments. Default 'global'. */
  key?: (args: readonly unknown[]) => string;
  stages?: Stage[];
  order?: readonly string[];
}

function stagesOf(parts: ResiliencePipelineParts): Stage[] {
  const stages: Stage[] = [];
  const { rateLimiter, circuitBreaker, retry, deadLetter, bulkhead } = parts;
  if (rateLimiter)
    stages.push(rateLimitStage(rateLimiter instanceof RateLimiter ? { limiter: rateLimiter } : rateLimiter));
  if (deadLetter)
    stages.push(deadLetterStage(deadLetter instanceof DeadLetterQueue ? { queue: deadLetter } : deadLetter));
  if (circuitBreaker) {
    if (!(circuitBreaker instanceof CircuitBreakerPolicy))
      throw new TypeError('circuitBreaker: expected a CircuitBreakerPolicy');
    stages.push(circuitBreakerStage(circuitBreaker));
  }
  if (retry) {
    if (!(retry instanceof RetryPolicy)) throw new TypeError('retry: expected a RetryPolicy');
    stages.push(retryStage(retry));
  }
  if (bulkhead) {
    if (!(bulkhead instanceof BulkheadPolicy)) throw new TypeError('bulkhead: expected a BulkheadPolicy');
    stages.push(bulkheadStage(bulkhead));
  }
  return [...stages, ...(parts.stages ?? [])];
}

/**
 * The guide's ResilientService without Nest: a call goes through the rate limiter, the
 * dead letter, the circuit breaker, the retry and (around each attempt) the bulkhead, in
 * that order, whatever order the parts are given in.
 */
export class ResiliencePipeline {
  private readonly next: Next;
  private readonly keyOf?: (args: readonly unknown[]) => string;

  constructor(parts: ResiliencePipelineParts) {
    this.next = compose(stagesOf(parts), parts.order);
    this.keyOf = parts.key;
  }

  /** Runs `operation(...args)` through every stage. */
  call<A extends unknown[], T>(operation: (...args: A) => T | PromiseLike<T>, ...args: A): Promise<Awaited<T>> {
    const context = createContext(() => operation(...args), args);
    if (this.keyOf) context.key = this.keyOf(args);
    return this.next(context) as Promise<Awaited<T>>;
  }

  /** Runs a call whose context you build (key, request, signal); the operation gets it. */
  run<T>(context: ResilienceContext): Promise<T> {
    return this.next(context) as Promise<T>;
  }
}
