import { z } from 'zod';
import { duration, errorMatchers, strict } from '../../config/schema-parts.js';
import { type HedgeOutcome, hedgeStage } from '../../core/hedge/hedge-stage.js';
import { type LatencyPercentile, parsePercentile } from '../../core/hedge/latency-sketch.js';
import { DEFAULT_BUDGET } from './extra-attempt-budgets.js';
import { definePattern } from './pattern-descriptor.js';

/** A percentile ('p95') or a duration (seconds, or a string with a unit). */
const delay = z.union([
  z
    .string()
    .regex(/^p\d/)
    .superRefine((value, ctx) => {
      try {
        parsePercentile(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .transform((value) => value as LatencyPercentile),
  duration(),
]);

const hedgeOptions = strict({
  /** Attempts started besides the first, at most. Default 1. */
  maxHedged: z.number().int().min(1),
  /** How long an attempt may go unanswered before the next starts: a duration, or 'p95' of the operation's recent latencies. */
  delay,
  /** Failures after which the next attempt starts at once (names, families, classes, predicates). Default: every failure. */
  handle: errorMatchers,
  /** The service's budget of extra attempts (shared with its retries). Default: the retry's `{ ratio }` budget, else 10% + 10/s. */
  budget: strict({
    ratio: z.number().min(0),
    minPerSecond: z.number().min(0),
    windowSeconds: z.number().gt(0),
    /** 'shared': one budget for the whole fleet, through Redis. Default 'local'. */
    scope: z.enum(['local', 'shared']),
  }).partial({
    minPerSecond: true,
    windowSeconds: true,
    scope: true,
  }),
}).partial();

export type HedgeOptions = z.input<typeof hedgeOptions>;

/**
 * Hedging: a pattern defined through its descriptor alone (lib/nest/descriptors). Decorator
 * only: the decorator is the mark that the operation is safe to run twice.
 */
export const hedgePattern = definePattern<z.output<typeof hedgeOptions>, { outcome: HedgeOutcome }>({
  name: 'hedge',
  kind: 'hedge',
  schema: hedgeOptions,
  stage({ options, resolved, budget, clock, emit }) {
    if (options.delay === undefined) return undefined;
    const retryBudget = resolved.retry.enabled ? resolved.retry.budget : undefined;
    const shared = options.budget ?? (retryBudget && 'ratio' in retryBudget ? retryBudget : undefined);
    return hedgeStage({
      delay: options.delay,
      maxHedged: options.maxHedged,
      handle: options.handle,
      budget: budget(shared ?? DEFAULT_BUDGET),
      clock,
      onHedge: (outcome) => emit({ outcome }),
    });
  },
  metrics: [
    {
      name: 'hedges_total',
      help: 'Hedged attempts by outcome: started, won (answered first), budget_exhausted (not started: the budget is spent)',
      labels: ['outcome'],
    },
  ],
  spanEvent: 'resilience.hedge',
});

/**
 * Starts another attempt of a call that has not answered after `delay` (a duration, or a
 * percentile of the operation's recent latencies: 'p95'), up to `maxHedged` more; the first
 * answer wins and the others are aborted through their signal (`currentCallSignal()`). Only
 * for operations safe to repeat: this decorator is your statement that the operation is
 * idempotent. Extra attempts draw from the service's budget, shared with its retries.
 */
export const Hedge = (options: HedgeOptions & { delay: HedgeOptions['delay'] }): MethodDecorator => {
  if (options === null || typeof options !== 'object' || options.delay === undefined) {
    throw new TypeError("@Hedge needs { delay }: a duration ('50ms') or a percentile ('p95')");
  }
  return hedgePattern.decorator(options);
};
