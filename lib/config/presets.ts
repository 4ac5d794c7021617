import {
  bulkheadPattern,
  circuitPattern,
  dlqPattern,
  ratePattern,
  retryPattern,
  timeoutPattern,
} from './patterns/index.js';
import type { PatternSettings } from './types.js';

export type { PatternName } from './patterns/index.js';

/**
 * Every named configuration of the resilience configuration guide, with the values
 * it states (durations in seconds). Fields the guide leaves unset are unset here too,
 * so the layer below (defaults, profile, tier) supplies them. The guide's example
 * hosts, paths, queue URLs and regions are deployment facts, not preset values, and
 * are left out.
 */
const { circuit, retry, rate, dlq, bulkhead, timeout } = {
  circuit: circuitPattern.presets,
  retry: retryPattern.presets,
  rate: ratePattern.presets,
  dlq: dlqPattern.presets,
  bulkhead: bulkheadPattern.presets,
  timeout: timeoutPattern.presets,
};

/** The guide's tier table ("Combined Pattern Configuration"). */
const tiers = {
  critical: {
    circuit: { failureThreshold: 2, timeout: 180 },
    retry: { maxAttempts: 5, baseDelay: 2.0 },
    rate: { rate: 100, per: 60, burst: 10 },
    dlq: { retentionDays: 90, alertThreshold: 10 },
  },
  standard: {
    circuit: { failureThreshold: 5, timeout: 60 },
    retry: { maxAttempts: 3, baseDelay: 1.0 },
    rate: { rate: 1000, per: 60, burst: 100 },
    dlq: { retentionDays: 30, alertThreshold: 100 },
  },
  non_critical: {
    circuit: { failureThreshold: 10, timeout: 30 },
    retry: { maxAttempts: 2, baseDelay: 0.5 },
    rate: { rate: 10000, per: 60, burst: 1000 },
    dlq: { retentionDays: 7, alertThreshold: 1000 },
  },
} as const satisfies Record<string, PatternSettings>;

/** The named configurations, by pattern (and the tier table); frozen. */
export interface Presets {
  readonly circuit: typeof circuit;
  readonly retry: typeof retry;
  readonly rate: typeof rate;
  readonly dlq: typeof dlq;
  readonly bulkhead: typeof bulkhead;
  readonly timeout: typeof timeout;
  readonly tiers: typeof tiers;
}

// Typed by name, so its declaration refers to the groups above instead of repeating them.
export const presets: Presets = deepFreeze({ circuit, retry, rate, dlq, bulkhead, timeout, tiers });

export type CircuitPresetName = keyof typeof circuit;
export type RetryPresetName = keyof typeof retry;
export type RatePresetName = keyof typeof rate;
export type DlqPresetName = keyof typeof dlq;
export type TierName = keyof typeof tiers;
export type BulkheadPresetName = keyof typeof bulkhead;
export type TimeoutPresetName = keyof typeof timeout;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
