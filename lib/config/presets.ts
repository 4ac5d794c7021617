import type {
  BulkheadSettings,
  CircuitSettings,
  DlqSettings,
  PatternSettings,
  RateSettings,
  RetrySettings,
} from './types.js';

/**
 * Every named configuration of the resilience configuration guide, with the values
 * it states (durations in seconds). Fields the guide leaves unset are unset here too,
 * so the layer below (defaults, profile, tier) supplies them. The guide's example
 * hosts, paths, queue URLs and regions are deployment facts, not preset values, and
 * are left out.
 */
const circuit = {
  /** "Basic Configuration": the conservative default. */
  default: {
    failureThreshold: 5,
    successThreshold: 2,
    timeout: 60,
    expectedExceptions: ['ConnectionError', 'TimeoutError', 'HTTPError', 'ServiceUnavailableError'],
  },
  development: { failureThreshold: 10, successThreshold: 1, timeout: 30, expectedExceptions: ['Exception'] },
  staging: {
    failureThreshold: 5,
    successThreshold: 2,
    timeout: 45,
    expectedExceptions: ['ConnectionError', 'TimeoutError', 'HTTPError'],
  },
  production: {
    failureThreshold: 3,
    successThreshold: 3,
    timeout: 120,
    expectedExceptions: ['ConnectionError', 'TimeoutError', 'ReadTimeoutError', 'HTTPError'],
  },
  critical: {
    failureThreshold: 2,
    successThreshold: 5,
    timeout: 180,
    expectedExceptions: ['ConnectionError', 'TimeoutError'],
  },
  nonCritical: { failureThreshold: 10, successThreshold: 2, timeout: 30, expectedExceptions: ['Exception'] },
  external: {
    failureThreshold: 5,
    successThreshold: 3,
    timeout: 300,
    expectedExceptions: ['RequestException', 'TimeoutError', 'HTTPError'],
  },
} as const satisfies Record<string, CircuitSettings>;

const retry = {
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
} as const satisfies Record<string, RetrySettings>;

const rate = {
  default: { rate: 100, per: 60, burst: 20, strategy: 'token_bucket' },
  development: { rate: 1000, per: 60, burst: 100, strategy: 'fixed_window' },
  production: { rate: 100, per: 60, burst: 10, strategy: 'sliding_window' },
  publicApi: { rate: 1000, per: 3600, burst: 100, key: 'apiKey' },
  internalApi: { rate: 10000, per: 3600, burst: 1000 },
  perUser: { rate: 100, per: 60, burst: 20, key: 'user' },
  perIp: { rate: 1000, per: 3600, burst: 100, key: 'ip' },
  stripe: { rate: 100, per: 1, burst: 10 },
  twitter: { rate: 300, per: 900, burst: 0 },
  github: { rate: 5000, per: 3600, burst: 100 },
  free: { rate: 100, per: 3600, burst: 10 },
  basic: { rate: 1000, per: 3600, burst: 100 },
  premium: { rate: 10000, per: 3600, burst: 1000 },
  enterprise: { rate: 100000, per: 3600, burst: 10000 },
} as const satisfies Record<string, RateSettings>;

const dlq = {
  default: { storageBackend: 'redis', maxRetryAttempts: 3, retentionDays: 7, alertThreshold: 100 },
  development: { storageBackend: 'memory', maxRetryAttempts: 2, retentionDays: 1, alertThreshold: 10 },
  production: {
    storageBackend: 'redis',
    maxRetryAttempts: 3,
    retentionDays: 30,
    alertThreshold: 100,
    storageConfig: { keyPrefix: 'prod_dlq' },
  },
  memory: { storageBackend: 'memory', retentionDays: 1 },
  file: { storageBackend: 'file', retentionDays: 7, storageConfig: { backupEnabled: true, backupInterval: 3600 } },
  redis: {
    storageBackend: 'redis',
    retentionDays: 30,
    storageConfig: { keyPrefix: 'dlq', maxMessageSize: 1024 * 1024, compression: true },
  },
  sqs: { storageBackend: 'sqs', retentionDays: 14, storageConfig: { maxMessageSize: 262144 } },
  orders: {
    storageBackend: 'redis',
    maxRetryAttempts: 5,
    retentionDays: 90,
    alertThreshold: 50,
    storageConfig: { keyPrefix: 'order_dlq' },
  },
  email: { storageBackend: 'file', maxRetryAttempts: 3, retentionDays: 7, alertThreshold: 1000 },
  payments: {
    storageBackend: 'redis',
    maxRetryAttempts: 3,
    retentionDays: 365,
    alertThreshold: 10,
    storageConfig: { keyPrefix: 'payment_dlq', encryption: true },
  },
} as const satisfies Record<string, DlqSettings>;

/**
 * Bulkheads per tier (ours; the guide has none). Conservative, chosen by Little's law
 * (concurrency = throughput x latency) for typical dependencies: docs/bulkhead.md says why.
 */
const bulkhead = {
  /** Payments: queue briefly rather than fail a charge; never more than 25 at once. */
  critical: { maxConcurrent: 25, maxQueue: 50, queueTimeout: 2 },
  /** User-facing reads: a short queue, a short wait. */
  standard: { maxConcurrent: 50, maxQueue: 25, queueTimeout: 0.5 },
  /** Analytics: shed at once when full, holding little. */
  non_critical: { maxConcurrent: 10, maxQueue: 0 },
  /** An adaptive limit (Vegas) for a dependency whose capacity moves. */
  adaptive: { adaptive: { algorithm: 'vegas', initialLimit: 20, minLimit: 5, maxLimit: 200 }, maxQueue: 0 },
} as const satisfies Record<string, BulkheadSettings>;

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
  readonly tiers: typeof tiers;
}

// Typed by name, so its declaration refers to the groups above instead of repeating them.
export const presets: Presets = deepFreeze({ circuit, retry, rate, dlq, bulkhead, tiers });

export type CircuitPresetName = keyof typeof circuit;
export type RetryPresetName = keyof typeof retry;
export type RatePresetName = keyof typeof rate;
export type DlqPresetName = keyof typeof dlq;
export type TierName = keyof typeof tiers;
export type BulkheadPresetName = keyof typeof bulkhead;
export type PatternName = 'circuit' | 'retry' | 'rate' | 'dlq' | 'bulkhead';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
