import type { z } from 'zod';
import type { bulkheadSchema, circuitSchema, dlqSchema, rateSchema, retrySchema, timeoutSchema } from './schema.js';

// Settings after layering, derived from the schemas' outputs (every duration in seconds):
// the fields the base layer always supplies are required, the rest stay optional, and a
// preset is gone (expanded into the layer that named it).

type Resolved<S extends z.ZodType, Always extends keyof z.output<S>> = Omit<z.output<S>, 'preset' | 'why' | Always> &
  Required<Pick<z.output<S>, Always>>;

/** `failureThreshold` is absent in rate mode unless set at or above the layer that asked for rate mode. */
export type ResolvedCircuitSettings = Resolved<
  typeof circuitSchema,
  'successThreshold' | 'timeout' | 'halfOpenMaxCalls' | 'enabled'
>;

export type ResolvedRetrySettings = Resolved<
  typeof retrySchema,
  'maxAttempts' | 'baseDelay' | 'maxDelay' | 'exponentialBase' | 'jitter' | 'enabled'
>;

export type ResolvedRateSettings = Resolved<
  typeof rateSchema,
  'rate' | 'per' | 'burst' | 'strategy' | 'key' | 'ipv6Subnet' | 'apiKeyHeader' | 'mode' | 'enabled'
>;

export type ResolvedDlqSettings = Resolved<
  typeof dlqSchema,
  | 'queue'
  | 'storageBackend'
  | 'maxRetryAttempts'
  | 'retentionDays'
  | 'alertThreshold'
  | 'rethrow'
  | 'enabled'
  | 'storageConfig'
>;

export type ResolvedBulkheadSettings = Resolved<
  typeof bulkheadSchema,
  'maxConcurrent' | 'maxQueue' | 'queueTimeout' | 'enabled'
>;

/** `timeout` is absent until a layer sets one (a timeout that is on needs it: checked at resolve). */
export type ResolvedTimeoutSettings = Resolved<typeof timeoutSchema, 'per' | 'enabled'>;

export interface ResolvedPatterns {
  circuit: ResolvedCircuitSettings;
  retry: ResolvedRetrySettings;
  rate: ResolvedRateSettings;
  dlq: ResolvedDlqSettings;
  bulkhead: ResolvedBulkheadSettings;
  timeout: ResolvedTimeoutSettings;
}

/** What a service runs with: its tier, its patterns' settings, and an optional rollout arm. */
export interface ResolvedServiceConfig extends ResolvedPatterns {
  name: string;
  tier: string;
  environment?: string;
  rollout?: { percent: number } & ResolvedPatterns;
}
