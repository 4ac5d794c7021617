import type { z } from 'zod';
import type { RateLimitStrategy } from '../core/rate-limiter/types.js';
import type { Jitter } from '../core/retry/backoff.js';
import type {
  bulkheadSchema,
  circuitSchema,
  configSchema,
  DLQ_BACKENDS,
  dlqSchema,
  httpSchema,
  metricsSchema,
  patternSchema,
  RATE_KEY_KINDS,
  rateSchema,
  redisSchema,
  retrySchema,
  rolloutSchema,
  serviceSchema,
  storageConfigSchema,
  timeoutSchema,
  traceSchema,
} from './schema.js';
import type { Named } from './schema-parts.js';

// The settings as a user writes them, derived from the schemas that validate them
// (schema.ts holds each field once, with its documentation): a field the schema accepts
// is a field of the type, and nothing else is.

export type { ApiKeyValidator, KeyFunction } from './schema.js';

/** Circuit breaker settings (see circuitSchema); injected by the module: the clock. */
export interface CircuitSettings extends Named<z.input<typeof circuitSchema>> {}
/** Retry settings (see retrySchema). */
export interface RetrySettings extends Named<z.input<typeof retrySchema>> {}
/** Rate limiter settings (see rateSchema). */
export interface RateSettings extends Named<z.input<typeof rateSchema>> {}
export interface DlqStorageConfig extends Named<z.input<typeof storageConfigSchema>> {}
/** Dead-letter queue settings (see dlqSchema). */
export interface DlqSettings extends Named<z.input<typeof dlqSchema>> {}
/** Bulkhead settings (see bulkheadSchema). */
export interface BulkheadSettings extends Named<z.input<typeof bulkheadSchema>> {}
/** Timeout settings (see timeoutSchema). */
export interface TimeoutSettings extends Named<z.input<typeof timeoutSchema>> {}
/** The patterns' settings, as a tier, a service or a call site states them. */
export interface PatternSettings extends Named<z.input<typeof patternSchema>> {}
export interface RolloutSettings extends Named<z.input<typeof rolloutSchema>> {}
export interface ServiceSettings extends Named<z.input<typeof serviceSchema>> {}
export interface RedisSettings extends Named<z.input<typeof redisSchema>> {}
export interface MetricsSettings extends Named<z.input<typeof metricsSchema>> {}
export interface HttpSettings extends Named<z.input<typeof httpSchema>> {}
export interface TraceSettings extends Named<z.input<typeof traceSchema>> {}
/** `trace` as validated. */
export interface ResolvedTraceSettings extends Named<z.output<typeof traceSchema>> {}
/** The `resilience` key of ConfigService, or the options of `ResilienceModule.forRoot`. */
export interface ResilienceConfig extends Named<z.input<typeof configSchema>> {}
/** A configuration once validated: every duration in seconds. */
export interface ParsedResilienceConfig extends Named<z.output<typeof configSchema>> {}

export type JitterKind = Jitter;
export type RateStrategy = RateLimitStrategy;
/** Built-in rate-limit keys, for configurations that cannot hold a function. */
export type RateKeyKind = (typeof RATE_KEY_KINDS)[number];
export type DlqBackend = (typeof DLQ_BACKENDS)[number];
export type EnvironmentName = NonNullable<ResilienceConfig['environment']>;
