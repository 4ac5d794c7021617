/** A percentile written as the hedge's `delay` accepts it: 'p95', 'p99', 'p99.9'. */
export type LatencyPercentile = `p${number}`;

/** The percentile (0..1) `spec` names, or a RangeError naming what is wrong. */
export function parsePercentile(spec: string): number {
  const match = /^p(\d{1,2}(?:\.\d+)?)$/.exec(spec);
  const value = match ? Number(match[1]) / 100 : Number.NaN;
  if (!(value > 0 && value < 1)) {
    throw new RangeError(`delay "${spec}" is not a percentile: write 'p50' to 'p99.9', or a duration`);
  }
  return value;
}

/**
 * The recent latencies of one operation, bounded: a ring of the last `size` samples, and the
 * requested percentile recomputed from a sorted copy every `size / 8` samples (never per call).
 * Recent samples are what a hedge's delay should follow (a dependency that slows down moves
 * its percentile within a ring), and a ring of 512 numbers costs 4 KiB, whatever the traffic.
 */
export class LatencySketch {
  private readonly ring: Float64Array;
  private count = 0;
  private next = 0;
  private sinceUpdate = 0;
  private readonly updateEvery: number;
  private cached = Number.NaN;

  constructor(
    readonly percentile: number,
    readonly size = 512,
    /** Samples needed before the percentile is trusted (until then: undefined). */
    readonly minSamples = 20,
  ) {
    if (!(percentile > 0 && percentile < 1)) throw new RangeError(`percentile must be in (0, 1), got ${percentile}`);
    if (!Number.isInteger(size) || size < 8) throw new RangeError(`sketch size must be an integer >= 8, got ${size}`);
    this.ring = new Float64Array(size);
    this.updateEvery = Math.max(1, size >> 3);
  }

  /** One latency, in ms. */
  record(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    if (this.count < this.size) this.count++;
    if (++this.sinceUpdate >= this.updateEvery || Number.isNaN(this.cached)) this.update();
  }

  /** The percentile of the recent samples in ms, or undefined before `minSamples`. */
  value(): number | undefined {
    return this.count >= this.minSamples ? this.cached : undefined;
  }

  get samples(): number {
    return this.count;
  }

  private update(): void {
    this.sinceUpdate = 0;
    if (this.count < this.minSamples) return;
    const sorted = this.ring.slice(0, this.count).sort();
    this.cached = sorted[Math.min(this.count - 1, Math.ceil(this.percentile * this.count) - 1)];
  }
}
