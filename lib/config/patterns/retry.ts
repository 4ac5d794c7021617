import { z } from 'zod';
import { JITTER_KINDS } from '../../core/retry/backoff.js';
import type { RetryEvent } from '../../core/retry/retry-options.js';
import { describe, duration, errorMatchers, fn, positiveInt, strict } from '../schema-parts.js';

// The retry's settings: its section of the configuration schema (the schema adds
// `preset` and `why`), its presets, and what the base layer fills. One entry of the
// pattern table (./index.ts).

const jitter = z.union([z.boolean(), z.enum(JITTER_KINDS), z.number().min(0).max(1)], {
  error: (issue) =>
    `expected true, false, 'full', 'equal', 'decorrelated' or a ratio from 0 to 1, got ${describe(issue.input)}`,
});

/**
 * Retry settings; the first six are the guide's, in camelCase.
 */
const tokenBucket = strict({ maxTokens: z.number().gt(0), tokenRatio: z.number().gt(0) });
const shareOfCalls = strict({
  ratio: z.number().min(0),
  minPerSecond: z.number().min(0),
  windowSeconds: z.number().gt(0),
  /** 'shared': one budget for the whole fleet, through Redis (each replica's window added up). Default 'local'. */
  scope: z.enum(['local', 'shared']),
}).partial({ minPerSecond: true, windowSeconds: true, scope: true });

/** Either form, told apart by `ratio`, so a problem is reported against the form the user wrote. */
const budget = z.custom<z.input<typeof tokenBucket> | z.input<typeof shareOfCalls>>().transform((value, ctx) => {
  const form = value !== null && typeof value === 'object' && 'ratio' in value ? shareOfCalls : tokenBucket;
  const parsed = form.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

const fields = {
  /** Total tries, the first one included. */
  maxAttempts: positiveInt,
  baseDelay: duration(),
  maxDelay: duration(),
  /** 1 = linear, 2 = exponential, 3 = aggressive. */
  exponentialBase: z.number().min(1),
  /** true = the guide's ±10%; 'full' | 'equal' | 'decorrelated'; a ratio such as 0.2; false. */
  jitter,
  retryableExceptions: errorMatchers,
  /** Give up when the next wait would take the total waiting past this. */
  maxTotalDelay: duration(),
  /**
   * Retry budget: gRPC's retry throttling (a bucket of `maxTokens`, each success refunds
   * `tokenRatio`), or a share of the calls (`ratio`, `minPerSecond`: at most ratio x calls +
   * minPerSecond extra attempts per second), shared with the service's hedges.
   */
  budget,
  /** Give up when the next wait would end past this time after the first try started. */
  deadline: duration({ positive: true }),
  /** Decides which errors are retried; replaces `retryableExceptions`. */
  retryIf: fn<(error: unknown, attempt: number) => boolean>('retryIf'),
  /** Retries a result too; the last one is returned when attempts run out. */
  retryOnResult: fn<(result: unknown) => boolean>('retryOnResult'),
  onRetry: fn<(event: RetryEvent) => void>('onRetry'),
  enabled: z.boolean(),
};

/** The section as a user writes it, without `preset`: what every preset must be. */
const section = strict(fields).partial();

const presets = {
  default: {
    maxAttempts: 3,
    baseDelay: 1.0,
    maxDelay: 60.0,
    exponentialBase: 2,
    jitter: true,
    retryableExceptions: ['TimeoutError', 'ConnectionError', 'TemporaryFailure'],
  },
  development: { maxAttempts: 2, baseDelay: 0.5, maxDelay: 5.0, jitter: false },
  production: { maxAttempts: 5, baseDelay: 2.0, maxDelay: 120.0, exponentialBase: 2, jitter: true },
  fast: { maxAttempts: 3, baseDelay: 0.1, maxDelay: 2.0, exponentialBase: 2, jitter: true },
  network: {
    maxAttempts: 4,
    baseDelay: 1.0,
    maxDelay: 30.0,
    exponentialBase: 2,
    jitter: true,
    retryableExceptions: ['ConnectionError', 'TimeoutError', 'ReadTimeoutError'],
  },
  database: {
    maxAttempts: 3,
    baseDelay: 0.5,
    maxDelay: 10.0,
    exponentialBase: 2,
    jitter: true,
    retryableExceptions: ['OperationalError', 'DeadlockError', 'LockTimeoutError'],
  },
  api: {
    maxAttempts: 5,
    baseDelay: 2.0,
    maxDelay: 60.0,
    exponentialBase: 2,
    jitter: true,
    retryableExceptions: ['RequestException', 'HTTPError', 'TimeoutError'],
  },
  linear: { maxAttempts: 5, baseDelay: 2.0, exponentialBase: 1, jitter: true },
  aggressive: { maxAttempts: 4, baseDelay: 0.5, exponentialBase: 3, maxDelay: 30.0 },
} as const satisfies Record<string, z.input<typeof section>>;

export const retryPattern = {
  /** The key of the pattern's section in a tier, a service, a call site and the metrics. */
  key: 'retry' as const,
  fields,
  presets,
  /** The layer under every other: the guide's class defaults. */
  base: {
    maxAttempts: 3,
    baseDelay: 1,
    maxDelay: 60,
    exponentialBase: 2,
    jitter: true,
    enabled: true,
  } satisfies z.input<typeof section>,
};
