import { ERROR_FAMILIES } from '../error-matchers.js';
import { ResilienceError } from '../errors.js';

/**
 * What an experiment injects: a delay before the call, an error instead of it, or a value
 * instead of it. A delay is `latencyMs`, or drawn per injection: uniform from `latencyMs` to
 * `maxMs`, or exponential with mean `latencyMs` capped at `maxMs`.
 */
export type ChaosFault =
  | { kind: 'latency'; latencyMs: number; distribution?: 'uniform' | 'exponential'; maxMs?: number }
  | { kind: 'error'; error: string }
  | { kind: 'outcome'; value: unknown };

/** Node's codes for the families an injected error belongs to, so every matcher sees it as a real one. */
const CODES: Record<string, string> = {
  ConnectionError: 'ECONNREFUSED',
  OperationalError: 'ECONNREFUSED',
  RequestException: 'ECONNREFUSED',
  TimeoutError: 'ETIMEDOUT',
  ReadTimeoutError: 'ETIMEDOUT',
  DeadlockError: 'ER_LOCK_DEADLOCK',
  LockTimeoutError: 'ER_LOCK_WAIT_TIMEOUT',
};

/**
 * An error a chaos experiment injected: it carries the name, `code` and HTTP `status` of the
 * family or status asked for, so classification, retries, breakers and dead letters treat it
 * exactly as the real one; `injected` tells it apart in a letter or a log.
 */
export class ChaosInjectedError extends ResilienceError {
  readonly injected = true;
  readonly code?: string;
  readonly status?: number;
  readonly experiment: string;

  constructor(family: string, experiment: string) {
    const status = /^[1-5]\d\d$/.test(family) ? Number(family) : undefined;
    super(`Injected by chaos experiment ${experiment}: ${status ? `HTTP ${status}` : family}`);
    this.name = status ? 'HTTPError' : family;
    this.code = CODES[family];
    this.status = status;
    this.experiment = experiment;
  }
}

/** A family name or an HTTP status (`'503'`) that an experiment can inject; else a RangeError naming the choices. */
export function checkInjectableError(error: string): string {
  if (/^[1-5]\d\d$/.test(error) || (error in ERROR_FAMILIES && error !== 'Exception' && error !== 'Error'))
    return error;
  const families = Object.keys(ERROR_FAMILIES).filter((f) => f !== 'Exception' && f !== 'Error');
  throw new RangeError(`error "${error}" is not an error family (${families.join(', ')}) or an HTTP status ('503')`);
}

/** The delay of one injection of a latency fault; `random` is 0 <= x < 1. */
export function drawLatency(fault: Extract<ChaosFault, { kind: 'latency' }>, random: () => number): number {
  const { latencyMs, distribution, maxMs } = fault;
  if (distribution === 'uniform') return latencyMs + ((maxMs ?? latencyMs) - latencyMs) * random();
  if (distribution === 'exponential') return Math.min(maxMs ?? 10 * latencyMs, -latencyMs * Math.log(1 - random()));
  return latencyMs;
}
