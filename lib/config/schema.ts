import { z } from 'zod';
import {
  chaosSchema,
  criticalitySchema,
  deadlineSchema,
  httpSchema,
  metricsSchema,
  redisSchema,
  reloadSchema,
  traceSchema,
  tracingSchema,
} from './infra-schema.js';
import { PATTERN_SETTINGS, type PatternName } from './patterns/index.js';
import { duration, type Named, strict, why } from './schema-parts.js';

export {
  chaosExperimentSchema,
  chaosSchema,
  criticalitySchema,
  deadlineSchema,
  httpSchema,
  METRICS_PROVIDERS,
  metricsSchema,
  type RedisClientLike,
  redisSchema,
  reloadSchema,
  traceSchema,
  tracingSchema,
} from './infra-schema.js';
export { DLQ_BACKENDS, type StorageConfigSchema, storageConfigSchema } from './patterns/dlq.js';
export { RATE_KEY_KINDS } from './patterns/rate.js';
export { type ApiKeyValidator, describe, type KeyFunction, KNOWN_KEYS } from './schema-parts.js';

/** The preset names of a pattern, as the pattern table lists them (typed string: a name read from a file is a string). */
function presetName(pattern: PatternName) {
  return z.enum(Object.keys(PATTERN_SETTINGS[pattern].presets) as [string, ...string[]]);
}

const circuitObject = strict({
  /** Start from a named preset (see `presets.circuit`); the other fields here refine it. */
  preset: presetName('circuit'),
  why,
  ...PATTERN_SETTINGS.circuit.fields,
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface CircuitSchema extends Named<typeof circuitObject> {}
export const circuitSchema: CircuitSchema = circuitObject;

const retryObject = strict({
  /** Start from a named preset (see `presets.retry`); the other fields here refine it. */
  preset: presetName('retry'),
  why,
  ...PATTERN_SETTINGS.retry.fields,
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface RetrySchema extends Named<typeof retryObject> {}
export const retrySchema: RetrySchema = retryObject;

const rateObject = strict({
  /** Start from a named preset (see `presets.rate`); the other fields here refine it. */
  preset: presetName('rate'),
  why,
  ...PATTERN_SETTINGS.rate.fields,
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface RateSchema extends Named<typeof rateObject> {}
export const rateSchema: RateSchema = rateObject;

/** A dead-letter section: the queue settings, also the defaults of every queue under `deadLetter`. */
const dlqShape = {
  /** Start from a named preset (see `presets.dlq`); the other fields here refine it. */
  preset: presetName('dlq'),
  why,
  ...PATTERN_SETTINGS.dlq.fields,
};
const dlqObject = strict(dlqShape).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface DlqSchema extends Named<typeof dlqObject> {}
export const dlqSchema: DlqSchema = dlqObject;

const bulkheadObject = strict({
  /** Start from a named preset (see `presets.bulkhead`); the other fields here refine it. */
  preset: presetName('bulkhead'),
  why,
  ...PATTERN_SETTINGS.bulkhead.fields,
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface BulkheadSchema extends Named<typeof bulkheadObject> {}
export const bulkheadSchema: BulkheadSchema = bulkheadObject;

const timeoutObject = strict({
  /** Start from a named preset (see `presets.timeout`); the other fields here refine it. */
  preset: presetName('timeout'),
  why,
  ...PATTERN_SETTINGS.timeout.fields,
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface TimeoutSchema extends Named<typeof timeoutObject> {}
export const timeoutSchema: TimeoutSchema = timeoutObject;

/**
 * The sections of patterns defined with definePattern (`hedge`, `coalesce`, an application's
 * own), by pattern name; the module checks each against its pattern's schema at bootstrap.
 */
const definedPatternSections = z.record(z.string().min(1), z.record(z.string(), z.unknown()));

const patternShape = {
  circuit: circuitSchema,
  retry: retrySchema,
  rate: rateSchema,
  dlq: dlqSchema,
  bulkhead: bulkheadSchema,
  timeout: timeoutSchema,
  patterns: definedPatternSections,
};
const patternObject = strict({ ...patternShape, why }).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface PatternSchema extends Named<typeof patternObject> {}
export const patternSchema: PatternSchema = patternObject;

const rolloutAnalysisObject = strict({
  /** Calls each arm must serve in a step before it is judged. Default 200. */
  minCalls: z.number().int().min(1),
  /** The rollout arm's failure rate may exceed the stable arm's by this much (0.01: one point). Default 0.01. */
  maxFailureRateIncrease: z.number().min(0).max(1),
  /** The same for rejections (breaker open, bulkhead full, rate limited). Default 0.01. */
  maxRejectionRateIncrease: z.number().min(0).max(1),
  /** The rollout arm's p99 may exceed the stable arm's by this share (0.5: 50% slower). Default 0.5. */
  maxP99Increase: z.number().min(0),
}).partial();

const rolloutObject = strict({
  ...patternShape,
  why,
  /** Share of calls, 0 to 100, sent to this configuration (or the first of `steps`). */
  percent: z.number().min(0).max(100),
  /** A progressive rollout: the shares it moves through, judged every `interval` (see docs/reload.md). */
  steps: z.array(z.number().min(0).max(100)).min(1),
  /** How long each step runs before it is judged. Default 5m. */
  interval: duration({ positive: true }),
  analysis: rolloutAnalysisObject,
  /** A failed step: 'rollback' (default: every call to the stable arm) or 'hold' (keep the share, stop). */
  onFailure: z.enum(['rollback', 'hold']),
}).partial();
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
  /** The caller's deadline, propagated in request headers (see docs/deadlines.md). */
  deadline: deadlineSchema,
  /** The caller's criticality, propagated in a request header (see docs/deadlines.md). */
  criticality: criticalitySchema,
  /** Faults injected on purpose (see docs/chaos.md). Off by default. */
  chaos: chaosSchema,
  /** Live reloads (see docs/reload.md): a file watched. */
  reload: reloadSchema,
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface ConfigSchema extends Named<typeof configObject> {}
export const configSchema: ConfigSchema = configObject;
