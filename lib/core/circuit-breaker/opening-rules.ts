import { rateExceeded } from './options.js';
import type { OutcomeWindow } from './window.js';

/** Decides from the outcomes of CLOSED calls when the breaker opens (besides consecutive failures). */
export interface OpeningRule {
  /** Records one call's outcome; true when the breaker must open now. */
  record(failed: boolean, slow: boolean, nowMs: number): boolean;
  reset(): void;
}

/**
 * resilience4j's rate rules over a sliding window: open when the failure rate or the
 * slow-call rate reaches its threshold, once the window holds `minimumCalls`.
 */
export class RateRule implements OpeningRule {
  constructor(
    readonly window: OutcomeWindow,
    readonly minimumCalls: number,
    readonly failureRate?: number,
    readonly slowRate?: number,
  ) {}

  record(failed: boolean, slow: boolean, nowMs: number): boolean {
    const w = this.window;
    w.record(failed, slow, nowMs);
    if (w.calls < this.minimumCalls) return false;
    return rateExceeded(w.failures, w.calls, this.failureRate) || rateExceeded(w.slow, w.calls, this.slowRate);
  }

  reset(): void {
    this.window.reset();
  }
}
