import type { BulkheadPolicy } from '../../core/bulkhead/bulkhead.js';
import type { CircuitBreakerPolicy } from '../../core/circuit-breaker/index.js';
import type { DeadLetterQueue } from '../../core/dead-letter/dead-letter-queue.js';
import type { DeadLetterFilter } from '../../core/dead-letter/types.js';
import type { RateLimiter } from '../../core/rate-limiter/rate-limiter.js';
import { QuorumCircuitBreaker } from '../../redis/shared-circuit/quorum-breaker.js';
import { SharedCircuitBreaker } from '../../redis/shared-circuit/shared-breaker.js';
import type { AdminHistory } from './admin-history.js';

/** A breaker as the console shows it. */
export function breakerView(name: string, breaker: CircuitBreakerPolicy, tier: string, history: AdminHistory) {
  const figures = breaker.metrics();
  return {
    name,
    tier,
    scope:
      breaker instanceof QuorumCircuitBreaker ? 'quorum' : breaker instanceof SharedCircuitBreaker ? 'shared' : 'local',
    state: breaker.state,
    forced: breaker.isForcedOpen,
    disabled: breaker.isDisabled,
    /** Seconds until an open breaker admits a trial (0 otherwise; null while forced open). */
    retryAfter: breaker.isForcedOpen ? null : breaker.state === 'open' ? breaker.retryAfter : 0,
    window: {
      calls: figures.calls,
      failures: figures.failures,
      slow: figures.slow,
      consecutiveFailures: figures.consecutiveFailures,
      consecutiveSuccesses: figures.consecutiveSuccesses,
    },
    transitions: history.transitionsOf(name),
  };
}

/** The key a limiter counts by, named (a key function is the app's code: its name only). */
function keyShape(key: unknown): string {
  if (typeof key === 'function') return `function ${key.name || 'anonymous'}`;
  return typeof key === 'string' ? key : 'global';
}

/** A limiter: its policy and its counts, never a key. */
export function limiterView(name: string, limiter: RateLimiter, key: unknown, history: AdminHistory) {
  const { rate, windowMs, burst, strategy } = limiter.rule;
  const totals = history.limiterTotals(name);
  const series = history.limiterSeries(name);
  return {
    name,
    policy: { rate, per: windowMs / 1000, burst, strategy, mode: limiter.mode, key: keyShape(key) },
    allowed: totals.allowed,
    rejected: totals.rejected,
    series,
  };
}

/** A bulkhead: its limit now and over time; an adaptive one's phase, no-load latency, moves and swings. */
export function bulkheadView(name: string, bulkhead: BulkheadPolicy, history: AdminHistory) {
  const state = bulkhead.adaptiveState;
  return {
    name,
    limit: bulkhead.limit,
    inFlight: bulkhead.inFlight,
    queued: bulkhead.queued,
    adaptive: state
      ? { phase: state.phase, noLoadRttMs: Number.isFinite(state.noLoadRttMs) ? state.noLoadRttMs : null }
      : null,
    series: history.limitSeries(name),
    changes: history.limitChangesOf(name),
    swings: history.limitSwingsOf(name),
  };
}

/** A queue: size and oldest age read now (null when its store cannot answer). */
export async function queueView(name: string, queue: DeadLetterQueue, history: AdminHistory) {
  const [size, oldestAge] = await Promise.all([queue.size().catch(() => null), queue.oldestAge().catch(() => null)]);
  return {
    name,
    backend: queue.backend.constructor.name,
    size,
    /** Seconds. */
    oldestAge,
    alertThreshold: queue.alertThreshold,
    alerting: queue.isAlerting,
    damaged: queue.damaged().total,
    series: history.queueSeries(name),
  };
}

const FILTER_TEXT = ['service', 'className', 'method', 'reason'] as const;

/** A letter filter from query parameters; a bad value is a RangeError naming it. */
export function letterFilter(query: Record<string, unknown>): DeadLetterFilter | undefined {
  const filter: DeadLetterFilter = {};
  for (const name of FILTER_TEXT) {
    if (typeof query[name] === 'string' && query[name] !== '') filter[name] = query[name] as string;
  }
  if (query.status !== undefined) {
    if (query.status !== 'pending' && query.status !== 'exhausted') {
      throw new RangeError(`status must be 'pending' or 'exhausted', got ${JSON.stringify(query.status)}`);
    }
    filter.status = query.status;
  }
  for (const name of ['olderThan', 'newerThan'] as const) {
    if (query[name] === undefined) continue;
    const seconds = Number(query[name]);
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`${name} must be seconds (a number >= 0), got ${JSON.stringify(query[name])}`);
    }
    filter[name] = seconds;
  }
  return Object.keys(filter).length ? filter : undefined;
}

/** A page size from a query parameter: 1 to 500, default 50. */
export function pageLimit(value: unknown): number {
  if (value === undefined) return 50;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new RangeError(`limit must be an integer from 1 to 500, got ${JSON.stringify(value)}`);
  }
  return limit;
}
