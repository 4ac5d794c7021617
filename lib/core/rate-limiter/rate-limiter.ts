import { type Clock, systemClock } from '../clock.js';
import { type Duration, toMilliseconds } from '../duration.js';
import { RateLimitExceededError } from '../errors.js';
import { type Event, EventSource } from '../events.js';
import { realSleep, type Sleep } from '../retry/sleep.js';
import type { Decision } from './algorithms.js';
import { type KeyTable, MemoryRateLimitStore } from './memory-store.js';
import {
  capacity,
  type RateLimitRule,
  type RateLimitStore,
  type RateLimitStrategy,
  type RateLimitVerdict,
  validateRule,
} from './types.js';

export interface RateLimiterOptions {
  /** The limiter's name: metrics label and key namespace. Default 'default'. */
  name?: string;
  /** Requests allowed `per` window (guide: rate). */
  rate: number;
  /** Seconds or a string with a unit (guide: per). */
  per: Duration;
  /** Extra capacity above `rate` (guide: burst). Default 0. */
  burst?: number;
  /** Default 'token_bucket'. */
  strategy?: RateLimitStrategy;
  /** Where the state lives. Default: a memory store of this limiter's own. */
  store?: RateLimitStore;
  /** 'reject' (default) throws RateLimitExceededError; 'wait' queues the call up to `maxWait`. */
  mode?: 'reject' | 'wait';
  /** The longest a call may wait in 'wait' mode. Default 30 s. */
  maxWait?: Duration;
  clock?: Clock;
  sleep?: Sleep;
  /** Aborting it wakes every waiting call ('wait' mode) at once with the signal's reason. */
  signal?: AbortSignal;
  /** false: admits every call and counts nothing (default true). */
  enabled?: boolean;
}

/** One decision of a limiter: a call admitted or refused. */
export interface RateLimitDecisionEvent {
  readonly limiter: string;
  readonly allowed: boolean;
}

/**
 * The guide's RateLimiter: `rate` requests `per` window plus `burst`, per key.
 * `consume` returns a verdict (a denial costs what an allow costs); `acquire` turns a
 * denial into RateLimitExceededError, or waits in 'wait' mode; `execute` runs a
 * function once admitted.
 */
export class RateLimiter {
  readonly rule: RateLimitRule;
  readonly mode: 'reject' | 'wait';
  private readonly rules: readonly RateLimitRule[];
  private readonly store: RateLimitStore;
  private readonly memory?: MemoryRateLimitStore;
  private readonly memoryTable?: KeyTable;
  /** Requests a key may make at once: `rate` + `burst`. */
  readonly capacity: number;
  private readonly maxWaitMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly signal?: AbortSignal;
  private readonly disabled: boolean;
  /** The tail of each key's queue of waiting calls ('wait' mode), so waiters go in order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly decisions = new EventSource<RateLimitDecisionEvent>();
  private readonly admitted: RateLimitDecisionEvent;
  private readonly refused: RateLimitDecisionEvent;
  /**
   * Every decision of consume and acquire (once per call, also after waiting), and those of
   * tryDecideSync its caller reports (recordDecision); check() decides nothing. Subscribe at any time (metrics count requests and rejections here).
   */
  readonly onDecision: Event<RateLimitDecisionEvent> = this.decisions.event;

  constructor(options: RateLimiterOptions) {
    this.rule = validateRule({
      name: options.name ?? 'default',
      rate: options.rate,
      windowMs: toMilliseconds(options.per, 'per'),
      burst: options.burst ?? 0,
      strategy: options.strategy ?? 'token_bucket',
    });
    this.rules = [this.rule];
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? new MemoryRateLimitStore({ clock: options.clock });
    if (this.store instanceof MemoryRateLimitStore) {
      this.memory = this.store;
      this.memoryTable = this.store.table(this.rule);
    }
    this.capacity = capacity(this.rule);
    this.mode = options.mode ?? 'reject';
    this.maxWaitMs = toMilliseconds(options.maxWait ?? 30, 'maxWait');
    this.sleep = options.sleep ?? realSleep;
    this.signal = options.signal;
    this.disabled = options.enabled === false;
    this.admitted = Object.freeze({ limiter: this.rule.name, allowed: true });
    this.refused = Object.freeze({ limiter: this.rule.name, allowed: false });
  }

  private decided(allowed: boolean): void {
    if (this.decisions.hasListeners) this.decisions.emit(allowed ? this.admitted : this.refused);
  }

  /** The verdict of a disabled limiter: admitted, nothing counted. */
  private unlimited(): RateLimitVerdict {
    const { name, windowMs } = this.rule;
    return {
      allowed: true,
      limiter: name,
      limit: this.capacity,
      remaining: this.capacity,
      retryAfter: 0,
      resetAfter: 0,
      window: windowMs / 1000,
    };
  }

  get name(): string {
    return this.rule.name;
  }

  /** Decides one request of `cost` for `key` and counts it if admitted. */
  consume(key = 'global', cost = 1): Promise<RateLimitVerdict> {
    const counted = this.count(key, cost);
    if (!this.decisions.hasListeners) return counted;
    return counted.then((verdict) => {
      this.decided(verdict.allowed);
      return verdict;
    });
  }

  /** consume without the event (a waiting call's tries are one decision). */
  private count(key: string, cost: number): Promise<RateLimitVerdict> {
    if (this.disabled) return Promise.resolve(this.unlimited());
    if (cost !== 1) this.checkCost(cost);
    if (this.memory) return Promise.resolve(this.memory.consumeOne(this.rule, key, cost, this.memoryTable));
    return Promise.resolve(this.store.consume(this.rules, key, cost)).then((v) => v[0]);
  }

  /** The verdict a consume would give now, counting nothing. */
  async check(key = 'global', cost = 1): Promise<RateLimitVerdict> {
    if (this.disabled) return this.unlimited();
    this.checkCost(cost);
    return (await this.store.peek(this.rules, key, cost))[0];
  }

  async reset(key = 'global'): Promise<void> {
    await this.store.reset(this.rules, key);
  }

  /** Admits the call or throws RateLimitExceededError ('reject'); waits for its turn ('wait'). */
  acquire(key = 'global', cost = 1): Promise<RateLimitVerdict> {
    if (this.disabled) return Promise.resolve(this.unlimited());
    if (this.mode === 'wait') {
      const turn = this.enqueue(key, cost);
      if (!this.decisions.hasListeners) return turn;
      return turn.then(
        (verdict) => {
          this.decided(true);
          return verdict;
        },
        (error: unknown) => {
          this.decided(false);
          throw error;
        },
      );
    }
    // Decided synchronously (memory) when it can be: settle in one step.
    const decision = this.tryDecideSync(key, cost);
    if (decision) {
      const verdict = this.verdictOf(decision);
      this.recordDecision(verdict.allowed);
      return verdict.allowed ? Promise.resolve(verdict) : Promise.reject(exceeded(verdict));
    }
    return this.consume(key, cost).then(throwIfDenied);
  }

  /**
   * The decision right now when the store decides synchronously (memory, 'reject' mode),
   * counted if admitted, without building a verdict: in an object reused by the next call
   * (read it at once); undefined when the decision needs a round trip (use acquire).
   */
  tryDecideSync(key = 'global', cost = 1): Decision | undefined {
    if (!this.memory || this.mode === 'wait' || this.disabled) return undefined;
    if (cost !== 1) this.checkCost(cost);
    return this.memory.decideOne(this.rule, key, cost, this.memoryTable);
  }

  /**
   * Reports a decision of tryDecideSync to onDecision, once its caller has read the shared
   * decision (a listener that decides again would overwrite it).
   */
  recordDecision(allowed: boolean): void {
    if (this.decisions.hasListeners) this.decided(allowed);
  }

  /** The verdict of a decision from tryDecideSync. */
  verdictOf(decision: Decision): RateLimitVerdict {
    return (this.memory as MemoryRateLimitStore).toVerdict(this.rule, decision);
  }

  /** Runs `fn` once admitted. */
  async execute<T>(fn: () => T | PromiseLike<T>, key = 'global', cost = 1): Promise<T> {
    await this.acquire(key, cost);
    return fn();
  }

  private checkCost(cost: number): void {
    if (!(Number.isInteger(cost) && cost >= 1 && cost <= this.capacity)) {
      throw new RangeError(
        `rate limiter "${this.name}": cost must be an integer from 1 to ${this.capacity}, got ${cost}`,
      );
    }
  }

  private enqueue(key: string, cost: number): Promise<RateLimitVerdict> {
    const deadline = this.clock.now() + this.maxWaitMs;
    const previous = this.queues.get(key);
    const turn = previous
      ? previous.then(() => this.waitForToken(key, cost, deadline))
      : this.waitForToken(key, cost, deadline);
    const tail = turn.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return turn;
  }

  private async waitForToken(key: string, cost: number, deadline: number): Promise<RateLimitVerdict> {
    for (;;) {
      if (this.signal?.aborted) throw this.signal.reason;
      const verdict = await this.count(key, cost);
      if (verdict.allowed) return verdict;
      const waitMs = verdict.retryAfter * 1000;
      if (this.clock.now() + waitMs > deadline) throw exceeded(verdict);
      await this.sleep(Math.max(1, waitMs), this.signal);
    }
  }
}

export function exceeded(verdict: RateLimitVerdict): RateLimitExceededError {
  return RateLimitExceededError.stackless(verdict);
}

function throwIfDenied(verdict: RateLimitVerdict): RateLimitVerdict {
  if (!verdict.allowed) throw exceeded(verdict);
  return verdict;
}
