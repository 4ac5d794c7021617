import type { LimitChange } from '../../core/bulkhead/adaptive-limit.js';
import type { LimitSwing } from '../../core/bulkhead/limit-swings.js';
import type { CircuitState } from '../../core/circuit-breaker/index.js';
import type { Clock } from '../../core/clock.js';

/** Sampling period of the series the page draws, and how many points it keeps (10 minutes). */
export const SAMPLE_MS = 2_000;
export const SERIES_POINTS = 300;
/** Transitions kept per breaker, limit changes and swings per bulkhead. */
export const TRANSITIONS_KEPT = 50;

/** A move of a bulkhead's adaptive limit, or a swing, with when (epoch ms). */
export type LimitEntry = LimitChange & { at: number };
export type SwingEntry = LimitSwing & { at: number };

export interface Transition {
  from: CircuitState;
  to: CircuitState;
  /** Epoch ms. */
  at: number;
}

/** A fixed-length series of numbers, oldest first. */
class Series {
  private readonly points: (number | null)[] = [];

  push(value: number | null): void {
    this.points.push(value);
    if (this.points.length > SERIES_POINTS) this.points.shift();
  }

  values(): (number | null)[] {
    return [...this.points];
  }

  get length(): number {
    return this.points.length;
  }
}

interface LimiterCounts {
  allowed: number;
  rejected: number;
  /** Totals at the previous sample, to difference. */
  sampled: { allowed: number; rejected: number };
  rejectedSeries: Series;
  allowedSeries: Series;
}

/**
 * What the console shows over time, recorded while the module runs: each breaker's
 * transitions as they happen, each limiter's decisions counted (and per sample, for the
 * rates), each queue's size and each bulkhead's limit per sample, each adaptive limit's
 * moves and swings. Memory is bounded: TRANSITIONS_KEPT per list, SERIES_POINTS per series.
 */
export class AdminHistory {
  private readonly transitions = new Map<string, Transition[]>();
  private readonly limiters = new Map<string, LimiterCounts>();
  private readonly queueSizes = new Map<string, Series>();
  private readonly bulkheadLimits = new Map<string, Series>();
  private readonly limitChanges = new Map<string, LimitEntry[]>();
  private readonly limitSwings = new Map<string, SwingEntry[]>();
  private readonly sampleTimes = new Series();

  /** Epoch ms when recording began: nothing is known of the time before. */
  readonly since: number;

  constructor(private readonly clock: Clock) {
    this.since = clock.now();
  }

  recordTransition(name: string, from: CircuitState, to: CircuitState): Transition {
    const transition = { from, to, at: this.clock.now() };
    keep(this.transitions, name, transition);
    return transition;
  }

  transitionsOf(name: string): Transition[] {
    return [...(this.transitions.get(name) ?? [])];
  }

  recordLimitChange(bulkhead: string, change: LimitChange): void {
    keep(this.limitChanges, bulkhead, { ...change, at: this.clock.now() });
  }

  recordLimitSwing(bulkhead: string, swing: LimitSwing): void {
    keep(this.limitSwings, bulkhead, { ...swing, at: this.clock.now() });
  }

  limitChangesOf(bulkhead: string): LimitEntry[] {
    return [...(this.limitChanges.get(bulkhead) ?? [])];
  }

  limitSwingsOf(bulkhead: string): SwingEntry[] {
    return [...(this.limitSwings.get(bulkhead) ?? [])];
  }

  /** A bulkhead's limit per sample, oldest first. */
  limitSeries(bulkhead: string): (number | null)[] {
    return this.bulkheadLimits.get(bulkhead)?.values() ?? [];
  }

  recordDecision(limiter: string, allowed: boolean): void {
    const counts = this.countsOf(limiter);
    if (allowed) counts.allowed++;
    else counts.rejected++;
  }

  limiterTotals(limiter: string): { allowed: number; rejected: number } {
    const { allowed, rejected } = this.countsOf(limiter);
    return { allowed, rejected };
  }

  /** Rejected and allowed decisions per sample, oldest first. */
  limiterSeries(limiter: string): { rejected: (number | null)[]; allowed: (number | null)[] } {
    const counts = this.countsOf(limiter);
    return { rejected: counts.rejectedSeries.values(), allowed: counts.allowedSeries.values() };
  }

  queueSeries(queue: string): (number | null)[] {
    return this.queueSizes.get(queue)?.values() ?? [];
  }

  /** Epoch ms of each sample, oldest first: the x axis of every series. */
  times(): (number | null)[] {
    return this.sampleTimes.values();
  }

  /** Closes one sample: limiter counts since the last one, queue sizes just read (null: unreadable), bulkhead limits. */
  sample(queueSizes: ReadonlyMap<string, number | null>, limits: ReadonlyMap<string, number> = new Map()): void {
    this.sampleTimes.push(this.clock.now());
    for (const counts of this.limiters.values()) {
      counts.rejectedSeries.push(counts.rejected - counts.sampled.rejected);
      counts.allowedSeries.push(counts.allowed - counts.sampled.allowed);
      counts.sampled = { allowed: counts.allowed, rejected: counts.rejected };
    }
    for (const [queue, size] of queueSizes) this.seriesOf(this.queueSizes, queue).push(size);
    for (const [bulkhead, limit] of limits) this.seriesOf(this.bulkheadLimits, bulkhead).push(limit);
  }

  /** The series of `key`; one first seen now lines up with the samples before it. */
  private seriesOf(map: Map<string, Series>, key: string): Series {
    let series = map.get(key);
    if (!series) {
      series = new Series();
      for (let i = 1; i < this.sampleTimes.length; i++) series.push(null);
      map.set(key, series);
    }
    return series;
  }

  private countsOf(limiter: string): LimiterCounts {
    let counts = this.limiters.get(limiter);
    if (!counts) {
      counts = {
        allowed: 0,
        rejected: 0,
        sampled: { allowed: 0, rejected: 0 },
        rejectedSeries: new Series(),
        allowedSeries: new Series(),
      };
      for (let i = 0; i < this.sampleTimes.length; i++) {
        counts.rejectedSeries.push(null);
        counts.allowedSeries.push(null);
      }
      this.limiters.set(limiter, counts);
    }
    return counts;
  }
}

/** Appends to the list of `key`, keeping the last TRANSITIONS_KEPT. */
function keep<T>(map: Map<string, T[]>, key: string, entry: T): void {
  const list = map.get(key) ?? [];
  list.push(entry);
  if (list.length > TRANSITIONS_KEPT) list.shift();
  map.set(key, list);
}
