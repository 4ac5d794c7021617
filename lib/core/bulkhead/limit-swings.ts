import type { LimitChange } from './adaptive-limit.js';
import type { LimitChangeReason } from './laws.js';

/** An adaptive limit that moved by more than half within a minute: worth a look. */
export interface LimitSwing {
  readonly direction: 'down' | 'up';
  /** The limit a minute ago at most (the highest for a fall, the lowest for a rise). */
  readonly from: number;
  readonly to: number;
  /** Why the limit moved last (latency, overload, timeout, growth). */
  readonly reason: LimitChangeReason;
  /** Milliseconds between `from` and `to`. */
  readonly withinMs: number;
  readonly rttMs?: number;
  readonly noLoadRttMs?: number;
}

/** Limits kept per minute at most: a change every window of 100 ms would be 600. */
const MAX_POINTS = 128;

/**
 * Watches a learned limit for swings: a fall under half of its highest value, or a rise over
 * twice its lowest, within `windowMs`. Told at most once per `windowMs` and direction, so a
 * flapping dependency makes one line a minute, not one per window. Probes are not limits
 * learned and are not shown to it.
 */
export class LimitSwings {
  private points: { at: number; limit: number }[] = [];
  private readonly lastTold = { down: Number.NEGATIVE_INFINITY, up: Number.NEGATIVE_INFINITY };

  constructor(private readonly windowMs = 60_000) {}

  observe(at: number, change: LimitChange): LimitSwing | undefined {
    const since = at - this.windowMs;
    while (this.points.length > 0 && this.points[0].at < since) this.points.shift();
    if (this.points.length === 0) this.points.push({ at, limit: change.previous });
    let high = this.points[0];
    let low = this.points[0];
    for (const point of this.points) {
      if (point.limit > high.limit) high = point;
      if (point.limit < low.limit) low = point;
    }
    this.points.push({ at, limit: change.limit });
    if (this.points.length > MAX_POINTS) this.points.splice(1, 1);
    const { limit, reason, rttMs, noLoadRttMs } = change;
    const swing = (direction: 'down' | 'up', from: { at: number; limit: number }): LimitSwing | undefined => {
      if (at - this.lastTold[direction] < this.windowMs) return undefined;
      this.lastTold[direction] = at;
      const measured = rttMs !== undefined ? { rttMs, noLoadRttMs } : {};
      return { direction, from: from.limit, to: limit, reason, withinMs: at - from.at, ...measured };
    };
    if (limit * 2 < high.limit) return swing('down', high);
    if (limit > low.limit * 2) return swing('up', low);
    return undefined;
  }
}
