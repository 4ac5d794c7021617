import { type Clock, systemClock } from '../clock.js';
import { CRITICALITIES, type Criticality, rankOf } from '../criticality.js';
import { DeadlineQueue } from '../deadline-queue.js';
import { BulkheadRejectedError, type BulkheadRejection } from '../errors.js';
import { type Event, EventSource } from '../events.js';
import { AdaptiveLimit, type ConcurrencyLimit, type LimitChange } from './adaptive-limit.js';
import { type LimitSwing, LimitSwings } from './limit-swings.js';
import { type BulkheadOptions, bulkheadSettings } from './options.js';
import { failureOutcome, type OverloadPredicate } from './overload.js';
import { PriorityWaiters } from './priority-waiters.js';
import { QueuedCall, type QueueOwner } from './queued-call.js';
import type { Waiter } from './waiters.js';

/** Seconds a turned-away caller is told to wait: a slot frees within a call's latency, and 1 s is HTTP's smallest Retry-After. */
const RETRY_AFTER_SECONDS = 1;

/**
 * A bulkhead (cockatiel's bulkhead, resilience4j's Bulkhead, Polly's ConcurrencyLimiter):
 * at most `limit` calls run at once, up to `maxQueue` more wait in FIFO order for at most
 * `queueTimeout`, the rest are turned away with BulkheadRejectedError. The limit is fixed
 * (`maxConcurrent`) or adaptive (AIMD, Vegas, Gradient2 on observed latency). No timer per
 * call: one DeadlineQueue serves every queued call; enqueue and dequeue are O(1).
 */
export class BulkheadPolicy {
  readonly name: string;
  private readonly limiter: ConcurrencyLimit;
  private readonly adaptive: boolean;
  private readonly swings?: LimitSwings;
  private readonly maxQueue: number;
  private readonly queueTimeoutMs: number;
  private readonly isOverload: OverloadPredicate;
  private readonly clock: Clock;
  private readonly disabled: boolean;
  private readonly waiting = new PriorityWaiters();
  private deadlines?: DeadlineQueue;
  private running = 0;
  private readonly rejected = new EventSource<{ name: string; reason: BulkheadRejection; criticality?: Criticality }>();
  private readonly limitChanged = new EventSource<{ name: string } & LimitChange>();
  private readonly limitSwung = new EventSource<{ name: string } & LimitSwing>();
  /** A call was turned away ('full' or 'queue_timeout'), with its criticality when it had one. Subscribe at any time. */
  readonly onRejected: Event<{ name: string; reason: BulkheadRejection; criticality?: Criticality }> =
    this.rejected.event;
  /** An adaptive limit moved: to what, from what, why. */
  readonly onLimitChanged: Event<{ name: string } & LimitChange> = this.limitChanged.event;
  /** A learned adaptive limit fell under half (or rose over twice) of where it was within a minute; at most once a minute. */
  readonly onLimitSwing: Event<{ name: string } & LimitSwing> = this.limitSwung.event;
  /** Releases a slot when a call of a fixed bulkhead settles (shared: no closure per call). */
  private readonly releaseFixed = () => {
    this.running--;
    if (this.successor) this.successor.releaseFixed();
    else if (this.waiting.size > 0 || this.predecessor?.waiting.size) this.admitWaiting();
  };
  /** After a reload, the bulkhead that took over from this one (see handOver). */
  private successor?: BulkheadPolicy;
  /** The bulkhead this one took over from: its waiters are served first, in this one's slots. */
  private predecessor?: BulkheadPolicy;

  /** What a queued call needs of its bulkhead: made once, so a queued call holds no closure of its own. */
  private readonly owner: QueueOwner = {
    run: (fn, state) => this.run(fn, state),
    timedOut: (call) => {
      this.leave(call);
      this.rejected.emit({ name: this.name, reason: 'queue_timeout', criticality: criticalityOfRank(call.rank) });
      return BulkheadRejectedError.stackless(this.name, 'queue_timeout', RETRY_AFTER_SECONDS);
    },
  };

  constructor(name = 'default', options: BulkheadOptions = {}) {
    this.name = name;
    const settings = bulkheadSettings(options);
    this.limiter = settings.limit;
    this.adaptive = settings.adaptive;
    if (settings.adaptive) this.swings = new LimitSwings();
    this.maxQueue = settings.maxQueue;
    this.queueTimeoutMs = settings.queueTimeoutMs;
    this.isOverload = settings.isOverload;
    this.clock = options.clock ?? systemClock;
    this.disabled = options.enabled === false;
  }

  /** Calls running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.waiting.size;
  }

  /** The limit in force (fixed, or the adaptive one's current value). */
  get limit(): number {
    return this.limiter.limit;
  }

  /**
   * What an adaptive limit has learned: its phase ('probing' while it measures the no-load
   * latency, 'slow_start', 'steady') and the no-load latency in ms; undefined for a fixed limit.
   */
  get adaptiveState(): { phase: 'probing' | 'slow_start' | 'steady'; noLoadRttMs: number } | undefined {
    const limit = this.limiter;
    return limit instanceof AdaptiveLimit ? { phase: limit.state, noLoadRttMs: limit.noLoadRttMs } : undefined;
  }

  /** True while every slot is taken. */
  get saturated(): boolean {
    return this.running >= this.limiter.limit;
  }

  /**
   * Runs `fn` in a slot: at once when one is free and nobody waits, else after the calls
   * queued before it; rejects with BulkheadRejectedError when the queue is full or the wait
   * ran out, with the signal's reason when `signal` aborts while queued (its queue place
   * is freed at once). `state` is handed to `fn` (no closure per call). Under saturation
   * `criticality` orders the queue (the most important first) and, when it is full, an arrival
   * turns away the least important waiter below its own class instead of being turned away.
   */
  execute<T, S = undefined>(
    fn: (state: S) => T | PromiseLike<T>,
    state?: S,
    signal?: AbortSignal,
    criticality?: Criticality,
  ): Promise<T> {
    if (this.disabled) return settle(fn, state as S);
    if (this.successor) return this.successor.execute(fn, state, signal, criticality);
    if (this.waiting.size === 0 && this.running < this.limiter.limit) {
      this.running++;
      return this.run(fn, state as S);
    }
    const rank = rankOf(criticality);
    if (this.waiting.size >= this.maxQueue && !this.evictFor(rank)) return this.reject('full', criticality);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.enqueue(fn, state as S, signal, rank);
  }

  /** Turns away the least important waiter below `rank` to make room; false when there is none. */
  private evictFor(rank: number): boolean {
    const victim = this.waiting.evictBelow(rank);
    if (!victim) return false;
    this.deadlines?.settle(victim);
    if (victim.abortListener) victim.signal?.removeEventListener('abort', victim.abortListener);
    if (this.rejected.hasListeners) {
      this.rejected.emit({ name: this.name, reason: 'full', criticality: criticalityOfRank(victim.rank) });
    }
    victim.cancel(BulkheadRejectedError.stackless(this.name, 'full', RETRY_AFTER_SECONDS));
    return true;
  }

  /** Runs `fn` in a slot already taken (`running` counts it). */
  private run<T, S>(fn: (state: S) => T | PromiseLike<T>, state: S): Promise<T> {
    const startedAt = this.adaptive ? this.clock.now() : 0;
    const inFlight = this.running;
    if (this.adaptive) this.limiter.started?.(startedAt, inFlight);
    let result: T | PromiseLike<T>;
    try {
      result = fn(state);
    } catch (error) {
      this.completed(startedAt, inFlight, error, true);
      return Promise.reject(error);
    }
    const promise = result instanceof Promise ? result : Promise.resolve(result);
    if (!this.adaptive) {
      // The caller gets the operation's own promise; this reaction only frees the slot.
      promise.then(this.releaseFixed, this.releaseFixed);
    } else {
      promise.then(
        () => this.completed(startedAt, inFlight, undefined, false),
        (error: unknown) => this.completed(startedAt, inFlight, error, true),
      );
    }
    return promise as Promise<T>;
  }

  private completed(startedAt: number, inFlight: number, error: unknown, failed: boolean): void {
    const at = this.clock.now();
    const rttMs = at - startedAt;
    const outcome = failed ? failureOutcome(this.isOverload, error, rttMs) : 'success';
    const change = this.limiter.record({ at, rttMs, inFlight, outcome });
    if (change) this.limitMoved(at, change);
    this.releaseFixed();
  }

  private limitMoved(at: number, change: LimitChange): void {
    if (this.limitChanged.hasListeners) this.limitChanged.emit({ name: this.name, ...change });
    const learned = this.limiter instanceof AdaptiveLimit && this.limiter.learned;
    if (!learned || change.reason === 'probe' || change.reason === 'probe_end') return;
    const swing = this.swings?.observe(at, change);
    if (swing && this.limitSwung.hasListeners) this.limitSwung.emit({ name: this.name, ...swing });
  }

  private enqueue<T, S>(
    fn: (state: S) => T | PromiseLike<T>,
    state: S,
    signal: AbortSignal | undefined,
    rank: number,
  ): Promise<T> {
    if (!this.deadlines) this.deadlines = new DeadlineQueue(() => this.clock.now(), this.clock.timers);
    const deadlines = this.deadlines;
    return new Promise<T>((resolve, reject) => {
      const call = new QueuedCall(this.clock.now() + this.queueTimeoutMs, this.owner, fn, state, resolve, reject);
      if (signal) {
        call.signal = signal;
        call.abortListener = () => {
          if (call.settled) return;
          deadlines.settle(call);
          this.leave(call);
          reject(signal.reason);
        };
        signal.addEventListener('abort', call.abortListener, { once: true });
      }
      this.waiting.push(call, rank);
      deadlines.push(call);
    });
  }

  /** A waiter that gave up (timed out, aborted): its queue place is free at once. */
  private leave(waiter: Waiter): void {
    this.waiting.left(waiter);
    if (waiter.abortListener) waiter.signal?.removeEventListener('abort', waiter.abortListener);
  }

  /**
   * Ends every wait in the queue at once with `reason` (the application shuts down: a call
   * queued for a slot must not hold the HTTP server open until its queueTimeout).
   */
  cancelWaiting(reason: unknown): void {
    this.predecessor?.cancelWaiting(reason);
    for (let waiter = this.waiting.shift(); waiter; waiter = this.waiting.shift()) {
      this.deadlines?.settle(waiter);
      if (waiter.abortListener) waiter.signal?.removeEventListener('abort', waiter.abortListener);
      waiter.cancel(reason);
    }
  }

  /**
   * Hands over to `next` (a reload changed this bulkhead's settings): the calls running here
   * count against `next`'s limit until they end, calls queued here are admitted in `next`'s
   * free slots before its own waiters, and calls that still arrive here go to `next`. No call
   * is dropped, none runs beyond the new limit.
   */
  handOver(next: BulkheadPolicy): void {
    next.running += this.running;
    next.predecessor = this;
    this.successor = next;
    // A larger limit: the oldest waiters (here) take its free slots first.
    next.admitWaiting();
  }

  /** Gives free slots to the oldest waiters (those of the bulkhead this took over from first). */
  private admitWaiting(): void {
    while (this.running < this.limiter.limit) {
      const from = this.predecessor?.waiting.size ? this.predecessor : this;
      const waiter = from.waiting.shift();
      if (!waiter) return;
      from.deadlines?.settle(waiter);
      if (waiter.abortListener) waiter.signal?.removeEventListener('abort', waiter.abortListener);
      this.running++;
      // It runs (and ends) on its own bulkhead, which releases the slot here.
      if (from !== this) from.running++;
      waiter.admit();
    }
  }

  private reject<T>(reason: BulkheadRejection, criticality?: Criticality): Promise<T> {
    if (this.rejected.hasListeners) this.rejected.emit({ name: this.name, reason, criticality });
    return Promise.reject(BulkheadRejectedError.stackless(this.name, reason, RETRY_AFTER_SECONDS));
  }
}

function criticalityOfRank(rank: number | undefined): Criticality | undefined {
  return rank === undefined ? undefined : CRITICALITIES[rank];
}

/** A disabled bulkhead's call: `fn` as it is, a synchronous throw as a rejection. */
function settle<T, S>(fn: (state: S) => T | PromiseLike<T>, state: S): Promise<T> {
  try {
    return Promise.resolve(fn(state));
  } catch (error) {
    return Promise.reject(error);
  }
}
