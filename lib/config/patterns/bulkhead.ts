import { z } from 'zod';
import { ADAPTIVE_ALGORITHMS } from '../../core/bulkhead/options.js';
import type { OverloadPredicate } from '../../core/bulkhead/overload.js';
import { duration, fn, nonNegativeInt, positiveInt, strict } from '../schema-parts.js';

// The bulkhead's settings: its section of the configuration schema (the schema adds
// `preset` and `why`), its presets, and what the base layer fills. One entry of the
// pattern table (./index.ts).

/** A setting of an earlier version that no longer means anything: refused, saying what replaced it. */
const removed = (replacement: string) =>
  z.custom<never>(() => false, { message: `was removed: ${replacement}` }).optional();

const adaptiveSchema = strict({
  algorithm: z.enum(ADAPTIVE_ALGORITHMS),
  /** The limit after the no-load latency was first measured. Default: 20, or maxLimit if lower. */
  initialLimit: positiveInt,
  /** Default 1. */
  minLimit: positiveInt,
  /** Default: maxConcurrent when set, else 200. */
  maxLimit: positiveInt,
  /** Multiplies the limit on overload answers and timeouts (aimd also on latency), 0.5 to 0.99. Default 0.9. */
  backoffRatio: z.number().min(0.5).max(0.99),
  /** aimd: a window slower than this is a drop too, whatever the no-load latency. Default: none. */
  timeout: duration({ positive: true }),
  /** vegas, gradient2: weight of a new estimate, 0 to 1 (vegas 1, gradient2 0.5). */
  smoothing: z.number().gt(0).max(1),
  /** Latency over the no-load latency tolerated (slow start, aimd, gradient2's target), 1 to 10. Default 1.1. */
  rttTolerance: z.number().min(1).max(10),
  /** gradient2: head room added at each update. Default 0. */
  queueSize: nonNegativeInt,
  /** How often the no-load latency is measured again at half the limit; 0 never. Default 30 s. */
  probeInterval: duration(),
  /** Which failures are overload, `(error, latencyMs) => boolean`. Default: timeouts, 503, 429, 504, rejections. */
  isOverload: fn<OverloadPredicate>('adaptive.isOverload'),
  /** Shortest sample window, ms. Default 100. */
  minWindowMs: nonNegativeInt,
  /** Longest sample window, ms. Default 1000. */
  maxWindowMs: nonNegativeInt,
  /** Calls a window needs before it moves the limit. Default 10. */
  minSamples: positiveInt,
  probeMultiplier: removed('use probeInterval (a duration) to re-measure the no-load latency'),
  longWindow: removed('gradient2 now measures against the no-load latency (rttTolerance sets its target)'),
})
  .partial()
  .required({ algorithm: true })
  .superRefine((a, ctx) => {
    const { minLimit, initialLimit, maxLimit } = a;
    const pairs: [string, number | undefined, string, number | undefined][] = [
      ['minLimit', minLimit, 'initialLimit', initialLimit],
      ['initialLimit', initialLimit, 'maxLimit', maxLimit],
      ['minLimit', minLimit, 'maxLimit', maxLimit],
    ];
    for (const [lowName, low, highName, high] of pairs) {
      if (low !== undefined && high !== undefined && low > high) {
        ctx.addIssue({
          code: 'custom',
          path: [lowName],
          message: `must be <= ${highName} (${low} > ${high})`,
          input: low,
        });
      }
    }
  });

/**
 * Bulkhead settings: calls running at once, calls waiting, how long they wait; or an
 * adaptive limit. Off unless enabled (a layer above the tier table, or @Bulkhead).
 */
const fields = {
  /** Calls running at once (the cap of an adaptive limit). */
  maxConcurrent: positiveInt,
  /** Calls waiting for a slot; 0 rejects at once when full. */
  maxQueue: nonNegativeInt,
  /** Longest wait in the queue. */
  queueTimeout: duration({ positive: true }),
  /** Find the limit from latency (aimd, vegas, gradient2) instead of fixing it. */
  adaptive: adaptiveSchema,
  /** The bulkhead is off by default: true turns it on for the layers below. */
  enabled: z.boolean(),
};

/** The section as a user writes it, without `preset`: what every preset must be. */
const section = strict(fields).partial();

/**
 * Bulkheads per tier (ours; the guide has none). Conservative, chosen by Little's law
 * (concurrency = throughput x latency) for typical dependencies: docs/bulkhead.md says why.
 */
const presets = {
  /** Payments: queue briefly rather than fail a charge; never more than 25 at once. */
  critical: { maxConcurrent: 25, maxQueue: 50, queueTimeout: 2 },
  /** User-facing reads: a short queue, a short wait. */
  standard: { maxConcurrent: 50, maxQueue: 25, queueTimeout: 0.5 },
  /** Analytics: shed at once when full, holding little. */
  non_critical: { maxConcurrent: 10, maxQueue: 0 },
  /** An adaptive limit (Vegas) for a dependency whose capacity moves. */
  adaptive: { adaptive: { algorithm: 'vegas', initialLimit: 20, minLimit: 5, maxLimit: 200 }, maxQueue: 0 },
} as const satisfies Record<string, z.input<typeof section>>;

export const bulkheadPattern = {
  /** The key of the pattern's section in a tier, a service, a call site and the metrics. */
  key: 'bulkhead' as const,
  fields,
  presets,
  /** Off unless a layer turns it on: an upgrade never starts shedding load nobody asked for. */
  base: { maxConcurrent: 10, maxQueue: 0, queueTimeout: 1, enabled: false } satisfies z.input<typeof section>,
  /** Its tier-table layer is its preset named after the tier (the guide's table has no bulkhead). */
  tierPresets: true,
  /**
   * The tier table's values apply once a bulkhead is on; a `bulkhead` section the application
   * writes (defaults, tiers, services, call sites) turns it on unless it says `enabled: false`:
   * a setting written is never ignored, and none is on by surprise.
   */
  sectionTurnsOn: true,
};
