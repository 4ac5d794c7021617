import type { LimitSample } from './limits.js';

export interface SampleWindowOptions {
  /** Shortest window, ms. Default 100. */
  minWindowMs?: number;
  /** Longest window, ms. Default 1000. */
  maxWindowMs?: number;
  /** Samples a window needs before it counts. Default 10. */
  minSamples?: number;
}

/**
 * Netflix's WindowedLimit: an adaptive limit that reacted to every completed call would
 * overshoot (the latency of a change shows only a round trip later). Samples are gathered
 * for about two round trips (the window's fastest call x 2, within [minWindowMs,
 * maxWindowMs]); then one sample goes to the algorithm: the window's average latency, the
 * most calls in flight, and whether any call dropped.
 */
export class SampleWindow {
  private readonly minWindowMs: number;
  private readonly maxWindowMs: number;
  private readonly minSamples: number;
  private nextUpdateAt = 0;
  private count = 0;
  private sum = 0;
  private fastest = Number.POSITIVE_INFINITY;
  private mostInFlight = 0;
  private dropped = false;

  constructor(options: SampleWindowOptions = {}) {
    this.minWindowMs = options.minWindowMs ?? 100;
    this.maxWindowMs = options.maxWindowMs ?? 1000;
    this.minSamples = options.minSamples ?? 10;
  }

  /** Adds a completed call; returns the window's sample when the window closes with enough calls. */
  add(endedAt: number, sample: LimitSample): LimitSample | undefined {
    this.count++;
    this.sum += sample.rttMs;
    if (sample.rttMs < this.fastest) this.fastest = sample.rttMs;
    if (sample.inFlight > this.mostInFlight) this.mostInFlight = sample.inFlight;
    this.dropped ||= sample.dropped;
    if (endedAt <= this.nextUpdateAt) return undefined;
    const ready = this.count >= this.minSamples;
    const window: LimitSample = { rttMs: this.sum / this.count, inFlight: this.mostInFlight, dropped: this.dropped };
    this.nextUpdateAt = endedAt + Math.min(Math.max(this.fastest * 2, this.minWindowMs), this.maxWindowMs);
    this.count = 0;
    this.sum = 0;
    this.fastest = Number.POSITIVE_INFINITY;
    this.mostInFlight = 0;
    this.dropped = false;
    return ready ? window : undefined;
  }
}
