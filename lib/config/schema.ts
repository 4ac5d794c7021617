import { z } from 'zod';
import { ADAPTIVE_ALGORITHMS } from '../core/bulkhead/options.js';
import type { OverloadPredicate } from '../core/bulkhead/overload.js';
import type { StateChangeListener } from '../core/circuit-breaker/types.js';
import { RATE_LIMIT_STRATEGIES } from '../core/rate-limiter/types.js';
import { JITTER_KINDS } from '../core/retry/backoff.js';
import type { RetryEvent } from '../core/retry/retry-options.js';
import { httpSchema, metricsSchema, redisSchema, traceSchema, tracingSchema } from './infra-schema.js';
import { presets } from './presets.js';
import {
  type ApiKeyValidator,
  describe,
  duration,
  errorMatchers,
  fn,
  type KeyFunction,
  type Named,
  nonNegativeInt,
  percent,
  positiveInt,
  strict,
  why,
} from './schema-parts.js';

export {
  httpSchema,
  METRICS_PROVIDERS,
  metricsSchema,
  type RedisClientLike,
  redisSchema,
  traceSchema,
  tracingSchema,
} from './infra-schema.js';
export { type ApiKeyValidator, describe, type KeyFunction, KNOWN_KEYS } from './schema-parts.js';

// Annotated, so the schemas' types never depend on the presets' (which are checked against them).
const PRESET_NAMES: Readonly<Record<'circuit' | 'retry' | 'rate' | 'dlq' | 'bulkhead', readonly string[]>> = {
  circuit: Object.keys(presets.circuit),
  retry: Object.keys(presets.retry),
  rate: Object.keys(presets.rate),
  dlq: Object.keys(presets.dlq),
  bulkhead: Object.keys(presets.bulkhead),
};

function presetName(pattern: keyof typeof PRESET_NAMES) {
  return z.enum(PRESET_NAMES[pattern] as [string, ...string[]]);
}

/**
 * Circuit breaker settings: the core breaker's options (the guide's five first:
 * failureThreshold, successThreshold, timeout, expectedExceptions, onStateChange), plus a
 * preset to start from.
 */
/** A rate the breaker opens *above*: under 100, or it could never open. */
const ratePercent = z
  .number()
  .gt(0)
  .lt(100, { message: 'must be < 100: the breaker opens above the threshold, so at 100 it never would' });

const circuitObject = strict({
  /** Start from a named preset (see `presets.circuit`); the other fields here refine it. */
  preset: presetName('circuit'),
  why,
  /** Consecutive counted failures in CLOSED that open the breaker (guide: failure_threshold). Default 5. */
  failureThreshold: positiveInt,
  /** Consecutive successes in HALF_OPEN that close it (guide: success_threshold). Default 2. */
  successThreshold: positiveInt,
  /** Time OPEN before a trial (guide: timeout). Seconds or a string with a unit. Default 60. */
  timeout: duration({ positive: true }),
  /** Errors that count as failures; others pass through uncounted. Default: all but an HTTP 4xx other than 408 and 429. */
  expectedExceptions: errorMatchers,
  onStateChange: fn<StateChangeListener>('onStateChange'),
  /** Decides which errors count; replaces `expectedExceptions`. */
  isFailure: fn<(error: unknown) => boolean>('isFailure'),
  /** Counts a returned value as a failure (the value is still returned). */
  isResultFailure: fn<(result: unknown) => boolean>('isResultFailure'),
  /** Called with the error instead of failing (on rejection, timeout or counted failure). */
  fallback: fn<(error: unknown) => unknown>('fallback'),
  /** Failure-rate mode: open when this percentage of the window failed (with at least `minimumCalls`). */
  failureRateThreshold: ratePercent,
  /** 'count' (last N calls, default) or 'time' (last N seconds). */
  slidingWindowType: z.enum(['count', 'time']),
  /** N for the window. Default 100 calls, or 60 seconds. */
  slidingWindowSize: positiveInt,
  /** Calls the window must hold before a rate is judged. Default 10. */
  minimumCalls: positiveInt,
  /** A call at least this slow counts as slow. */
  slowCallDuration: duration({ positive: true }),
  /** Open when this percentage of the window was slow. */
  slowCallRateThreshold: ratePercent,
  /** Trial calls admitted at once in HALF_OPEN; every other call is rejected at once. Default 1. */
  halfOpenMaxCalls: positiveInt,
  /** How long a half-open trial holds its slot at most. Default: `timeout`. */
  halfOpenTrialTimeout: duration({ positive: true }),
  /** Each re-open from HALF_OPEN multiplies the open time by this (flapping fix). Default 1. */
  timeoutMultiplier: z.number().min(1),
  /** Cap of the growing open time. Default 10 x timeout. */
  maxTimeout: duration({ positive: true }),
  /** Per-call timeout; the operation gets an AbortSignal and the call fails with CallTimeoutError. */
  callTimeout: duration({ positive: true }),
  /** false: a pass-through breaker that records nothing. */
  enabled: z.boolean(),
  /**
   * Where the state lives: 'local' (this process; default), 'shared' (one state machine in
   * Redis for every replica), 'quorum' (each replica its own; all open while a quorum of the
   * live replicas is open). 'shared' and 'quorum' need `redis`.
   */
  scope: z.enum(['local', 'shared', 'quorum']),
  /**
   * Scope 'quorum': the open replicas that open every replica, as a count or a percentage of
   * the fleet (one of the two). The fleet for a percentage is the most replicas live in the
   * last 10 minutes, at least `fleetSize` when given: a partition cannot shrink it.
   */
  quorum: strict({ replicas: positiveInt, percent, fleetSize: positiveInt }).partial(),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface CircuitSchema extends Named<typeof circuitObject> {}
export const circuitSchema: CircuitSchema = circuitObject;

const jitter = z.union([z.boolean(), z.enum(JITTER_KINDS), z.number().min(0).max(1)], {
  error: (issue) =>
    `expected true, false, 'full', 'equal', 'decorrelated' or a ratio from 0 to 1, got ${describe(issue.input)}`,
});

/** Retry settings; the first six are the guide's, in camelCase. */
const retryObject = strict({
  preset: presetName('retry'),
  why,
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
  /** Retry budget (gRPC retry throttling): a bucket of `maxTokens`, each success refunds `tokenRatio`. */
  budget: strict({ maxTokens: z.number().gt(0), tokenRatio: z.number().gt(0) }),
  /** Give up when the next wait would end past this time after the first try started. */
  deadline: duration({ positive: true }),
  /** Decides which errors are retried; replaces `retryableExceptions`. */
  retryIf: fn<(error: unknown, attempt: number) => boolean>('retryIf'),
  /** Retries a result too; the last one is returned when attempts run out. */
  retryOnResult: fn<(result: unknown) => boolean>('retryOnResult'),
  onRetry: fn<(event: RetryEvent) => void>('onRetry'),
  enabled: z.boolean(),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface RetrySchema extends Named<typeof retryObject> {}
export const retrySchema: RetrySchema = retryObject;

/** Built-in rate-limit keys, for configurations that cannot hold a function. */
export const RATE_KEY_KINDS = ['global', 'ip', 'user', 'apiKey'] as const;

/** Rate limiter settings; the first five are the guide's, in camelCase. */
const rateObject = strict({
  preset: presetName('rate'),
  why,
  /** Requests allowed `per` seconds. */
  rate: z.number().gt(0),
  per: duration({ positive: true }),
  /** Extra capacity above `rate`. */
  burst: nonNegativeInt,
  strategy: z.enum(RATE_LIMIT_STRATEGIES),
  keyFunc: fn<KeyFunction>('keyFunc'),
  key: z.enum(RATE_KEY_KINDS),
  /** 'ip' keys (and the IP fallback of the others): an IPv6 client counts by this prefix length. Default 64. */
  ipv6Subnet: z.number().int().min(8).max(128),
  /** The header the 'apiKey' key reads. Default 'x-api-key'. */
  apiKeyHeader: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'must be an HTTP header name' }),
  /** Without it, 'apiKey' trusts no header: it keys by request.user when a guard set it, else by IP. */
  validateApiKey: fn<ApiKeyValidator>('validateApiKey'),
  /** 'reject' throws RateLimitExceededError; 'wait' queues the call up to `maxWait`. */
  mode: z.enum(['reject', 'wait']),
  maxWait: duration(),
  enabled: z.boolean(),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface RateSchema extends Named<typeof rateObject> {}
export const rateSchema: RateSchema = rateObject;

const storageConfigObject = strict({
  filePath: z.string().min(1),
  backupEnabled: z.boolean(),
  backupInterval: duration({ positive: true }),
  redisUrl: z.string().regex(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' }),
  keyPrefix: z.string().min(1),
  /** Bytes of a stored letter at most. Default: 256 KiB on SQS, 1 MiB elsewhere. */
  maxMessageSize: positiveInt,
  /** Arguments that cannot be kept (over maxMessageSize as stored, unreadable, too deep): true (default) keeps the letter with markers, flagged `truncated`; false refuses it. */
  truncate: z.boolean(),
  /** Redis backend: where letters wait while Redis is down (a local file log). On by default. */
  spool: strict({ enabled: z.boolean(), path: z.string().min(1), maxLetters: positiveInt }).partial(),
  compression: z.union([z.boolean(), z.enum(['gzip', 'brotli'])]),
  encryption: z.union([
    z.boolean(),
    strict({ keys: z.record(z.string(), z.string().min(1)), activeKeyId: z.string().min(1) }),
  ]),
  queueUrl: z.string().min(1),
  region: z.string().min(1),
  endpoint: z.string().min(1),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface StorageConfigSchema extends Named<typeof storageConfigObject> {}
export const storageConfigSchema: StorageConfigSchema = storageConfigObject;

export const DLQ_BACKENDS = ['memory', 'file', 'redis', 'sqs'] as const;

/** Dead-letter queue settings; the guide's names, in camelCase. */
const dlqShape = {
  preset: presetName('dlq'),
  why,
  storageBackend: z.enum(DLQ_BACKENDS),
  maxRetryAttempts: nonNegativeInt,
  retentionDays: z.number().gt(0),
  alertThreshold: positiveInt,
  storageConfig: storageConfigSchema,
  /** The queue a service's failed calls go to (default: the service name). */
  queue: z.string().min(1),
  /** false swallows the error after dead-lettering (fire-and-forget work). */
  rethrow: z.boolean(),
  enabled: z.boolean(),
};
const dlqObject = strict(dlqShape).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface DlqSchema extends Named<typeof dlqObject> {}
export const dlqSchema: DlqSchema = dlqObject;

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
const bulkheadObject = strict({
  preset: presetName('bulkhead'),
  why,
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
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface BulkheadSchema extends Named<typeof bulkheadObject> {}
export const bulkheadSchema: BulkheadSchema = bulkheadObject;

const patternShape = {
  circuit: circuitSchema,
  retry: retrySchema,
  rate: rateSchema,
  dlq: dlqSchema,
  bulkhead: bulkheadSchema,
};
const patternObject = strict({ ...patternShape, why }).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface PatternSchema extends Named<typeof patternObject> {}
export const patternSchema: PatternSchema = patternObject;

const rolloutObject = strict({
  ...patternShape,
  why,
  /** Share of calls, 0 to 100, sent to this configuration. */
  percent: z.number().min(0).max(100),
})
  .partial()
  .required({ percent: true });
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface RolloutSchema extends Named<typeof rolloutObject> {}
export const rolloutSchema: RolloutSchema = rolloutObject;

const serviceObject = strict({
  ...patternShape,
  why,
  tier: z.string().min(1),
  rollout: rolloutSchema,
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface ServiceSchema extends Named<typeof serviceObject> {}
export const serviceSchema: ServiceSchema = serviceObject;

/** The `resilience` key of ConfigService, or the options of `ResilienceModule.forRoot`. */
const configObject = strict({
  /** Environment profile; defaults to NODE_ENV when it names one. */
  environment: z.enum(['development', 'staging', 'production']),
  defaultTier: z.string().min(1),
  /** Pre-deployment checks fail bootstrap instead of warning. */
  strict: z.boolean(),
  /** Settings under every tier (between the environment profile and the tier). */
  defaults: patternSchema,
  /** Merged over the guide's tier table; new names add tiers. */
  tiers: z.record(z.string().min(1), patternSchema),
  services: z.record(z.string().min(1), serviceSchema),
  /** Named rate limiters (e.g. the guide's user tiers free / basic / premium / enterprise). */
  rateLimiters: z.record(z.string().min(1), rateSchema),
  redis: redisSchema,
  deadLetter: strict({
    ...dlqShape,
    queues: z.record(z.string().min(1), dlqSchema),
    /** Lets DeadLetterService.queue() create queues of any (valid) name after bootstrap. Default false. */
    allowDynamicQueues: z.boolean(),
  }).partial(),
  http: httpSchema,
  metrics: metricsSchema,
  trace: traceSchema,
  tracing: tracingSchema,
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface ConfigSchema extends Named<typeof configObject> {}
export const configSchema: ConfigSchema = configObject;
