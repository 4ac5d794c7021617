import type { CircuitState } from '../../core/circuit-breaker/index.js';
import type { Clock } from '../../core/clock.js';

/** Sampling period of the series the page draws, and how many points it keeps (10 minutes). */
export const SAMPLE_MS = 2_000;
export const SERIES_POINTS = 300;
/** Transitions kept per breaker. */
export const TRANSITIONS_KEPT = 50;

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
 * rates), each queue's size per sample. Memory is bounded: TRANSITIONS_KEPT per breaker,
 * SERIES_POINTS per series.
 */
export class AdminHistory {
  private readonly transitions = new Map<string, Transition[]>();
  private readonly limiters = new Map<string, LimiterCounts>();
  private readonly queueSizes = new Map<string, Series>();
  private readonly sampleTimes = new Series();

  /** Epoch ms when recording began: nothing is known of the time before. */
  readonly since: number;

  constructor(private readonly clock: Clock) {
    this.since = clock.now();
  }

  recordTransition(name: string, from: CircuitState, to: CircuitState): Transition {
    const list = this.transitions.get(name) ?? [];
    const transition = { from, to, at: this.clock.now() };
    list.push(transition);
    if (list.length > TRANSITIONS_KEPT) list.shift();
    this.transitions.set(name, list);
    return transition;
  }

  transitionsOf(name: string): Transition[] {
    return [...(this.transitions.get(name) ?? [])];
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

  /** Closes one sample: limiter counts since the last one, and the queue sizes just read (null: unreadable). */
  sample(queueSizes: ReadonlyMap<string, number | null>): void {
    this.sampleTimes.push(this.clock.now());
    for (const counts of this.limiters.values()) {
      counts.rejectedSeries.push(counts.rejected - counts.sampled.rejected);
      counts.allowedSeries.push(counts.allowed - counts.sampled.allowed);
      counts.sampled = { allowed: counts.allowed, rejected: counts.rejected };
    }
    for (const [queue, size] of queueSizes) {
      let series = this.queueSizes.get(queue);
      if (!series) {
        series = new Series();
        // A queue first seen now lines up with the samples before it.
        for (let i = 1; i < this.sampleTimes.length; i++) series.push(null);
        this.queueSizes.set(queue, series);
      }
      series.push(size);
    }
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
