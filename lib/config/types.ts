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
  traceSchema,
} from './schema.js';

// The settings as a user writes them, derived from the schemas that validate them
// (schema.ts holds each field once, with its documentation): a field the schema accepts
// is a field of the type, and nothing else is.

export type { ApiKeyValidator, KeyFunction } from './schema.js';

/** Circuit breaker settings (see circuitSchema); injected by the module: the clock. */
export type CircuitSettings = z.input<typeof circuitSchema>;
/** Retry settings (see retrySchema). */
export type RetrySettings = z.input<typeof retrySchema>;
/** Rate limiter settings (see rateSchema). */
export type RateSettings = z.input<typeof rateSchema>;
export type DlqStorageConfig = z.input<typeof storageConfigSchema>;
/** Dead-letter queue settings (see dlqSchema). */
export type DlqSettings = z.input<typeof dlqSchema>;
/** Bulkhead settings (see bulkheadSchema). */
export type BulkheadSettings = z.input<typeof bulkheadSchema>;
/** The patterns' settings, as a tier, a service or a call site states them. */
export type PatternSettings = z.input<typeof patternSchema>;
export type RolloutSettings = z.input<typeof rolloutSchema>;
export type ServiceSettings = z.input<typeof serviceSchema>;
export type RedisSettings = z.input<typeof redisSchema>;
export type MetricsSettings = z.input<typeof metricsSchema>;
export type HttpSettings = z.input<typeof httpSchema>;
export type TraceSettings = z.input<typeof traceSchema>;
/** `trace` as validated. */
export type ResolvedTraceSettings = z.output<typeof traceSchema>;
/** The `resilience` key of ConfigService, or the options of `ResilienceModule.forRoot`. */
export type ResilienceConfig = z.input<typeof configSchema>;
/** A configuration once validated: every duration in seconds. */
export type ParsedResilienceConfig = z.output<typeof configSchema>;

export type JitterKind = Jitter;
export type RateStrategy = RateLimitStrategy;
/** Built-in rate-limit keys, for configurations that cannot hold a function. */
export type RateKeyKind = (typeof RATE_KEY_KINDS)[number];
export type DlqBackend = (typeof DLQ_BACKENDS)[number];
export type EnvironmentName = NonNullable<ResilienceConfig['environment']>;
