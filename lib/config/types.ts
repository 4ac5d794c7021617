import type { CircuitBreakerOptions } from '../core/circuit-breaker/types.js';
import type { Duration } from '../core/duration.js';
import type { ErrorMatcher } from '../core/error-matchers.js';
import type { RateLimitStrategy } from '../core/rate-limiter/types.js';
import type { Jitter } from '../core/retry/backoff.js';

/**
 * Circuit breaker settings: the core breaker's options (the guide's five first:
 * failureThreshold, successThreshold, timeout, expectedExceptions, onStateChange), plus a
 * preset to start from. Injected by the module: the clock.
 */
export interface CircuitSettings extends Omit<CircuitBreakerOptions, 'clock'> {
  /** Start from a named preset (see `presets.circuit`); the other fields here refine it. */
  preset?: string;
}

export type JitterKind = Jitter;

/** Retry settings; the first six are the guide's, in camelCase. */
export interface RetrySettings {
  preset?: string;
  /** Total tries, the first one included. */
  maxAttempts?: number;
  baseDelay?: Duration;
  maxDelay?: Duration;
  /** 1 = linear, 2 = exponential, 3 = aggressive. */
  exponentialBase?: number;
  /** true = the guide's ±10%; 'full' | 'equal' | 'decorrelated'; a ratio such as 0.2; false. */
  jitter?: JitterKind;
  retryableExceptions?: ErrorMatcher[];
  /** Give up when the next wait would take the total waiting past this. */
  maxTotalDelay?: Duration;
  /** Retry budget (gRPC retry throttling): a bucket of `maxTokens`, each success refunds `tokenRatio`. */
  budget?: { maxTokens: number; tokenRatio: number };
  /** Give up when the next wait would end past this time after the first try started. */
  deadline?: Duration;
  /** Decides which errors are retried; replaces `retryableExceptions`. */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Retries a result too; the last one is returned when attempts run out. */
  retryOnResult?: (result: unknown) => boolean;
  onRetry?: (event: { attempt: number; delay: number; error?: unknown; result?: unknown }) => void;
  enabled?: boolean;
}

export type RateStrategy = RateLimitStrategy;
/** Built-in rate-limit keys, for configurations that cannot hold a function. */
export type RateKeyKind = 'global' | 'ip' | 'user' | 'apiKey';

/**
 * Decides whether an API key a client presented is genuine: true (keyed by the key's
 * hash), a string (keyed by that identity, e.g. the account that owns the key), or
 * false / undefined (not trusted: the call is keyed by its IP address). Synchronous: it
 * runs on every call; look keys up in memory, or authenticate in a guard instead.
 */
export type ApiKeyValidator = (apiKey: string, request: unknown) => boolean | string | undefined;

/** Rate limiter settings; the first five are the guide's, in camelCase. */
export interface RateSettings {
  preset?: string;
  /** Requests allowed `per` seconds. */
  rate?: number;
  per?: Duration;
  /** Extra capacity above `rate`. */
  burst?: number;
  strategy?: RateStrategy;
  // biome-ignore lint/suspicious/noExplicitAny: the key function receives whatever the call site has
  keyFunc?: (...args: any[]) => string | undefined;
  key?: RateKeyKind;
  /** 'ip' keys (and the IP fallback of the others): an IPv6 client counts by this prefix length. Default 64. */
  ipv6Subnet?: number;
  /** The header the 'apiKey' key reads. Default 'x-api-key'. */
  apiKeyHeader?: string;
  /** Without it, 'apiKey' trusts no header: it keys by request.user when a guard set it, else by IP. */
  validateApiKey?: ApiKeyValidator;
  /** 'reject' throws RateLimitExceededError; 'wait' queues the call up to `maxWait`. */
  mode?: 'reject' | 'wait';
  maxWait?: Duration;
  enabled?: boolean;
}

export type DlqBackend = 'memory' | 'file' | 'redis' | 'sqs';

export interface DlqStorageConfig {
  filePath?: string;
  backupEnabled?: boolean;
  backupInterval?: Duration;
  redisUrl?: string;
  keyPrefix?: string;
  /** Bytes of a stored letter at most. Default: 256 KiB on SQS, 1 MiB elsewhere. */
  maxMessageSize?: number;
  /** Over maxMessageSize: keep the letter without its arguments, marked `truncated` (opt-in). */
  truncate?: boolean;
  /** Redis backend: where letters wait while Redis is down (a local file log). On by default. */
  spool?: { enabled?: boolean; path?: string; maxLetters?: number };
  compression?: boolean | 'gzip' | 'brotli';
  encryption?: boolean | { keys: Record<string, string>; activeKeyId: string };
  queueUrl?: string;
  region?: string;
  endpoint?: string;
}

/** Dead-letter queue settings; the guide's names, in camelCase. */
export interface DlqSettings {
  preset?: string;
  storageBackend?: DlqBackend;
  maxRetryAttempts?: number;
  retentionDays?: number;
  alertThreshold?: number;
  storageConfig?: DlqStorageConfig;
  /** The queue a service's failed calls go to (default: the service name). */
  queue?: string;
  /** false swallows the error after dead-lettering (fire-and-forget work). */
  rethrow?: boolean;
  enabled?: boolean;
}

/** The four patterns' settings, as a tier, a service or a call site states them. */
export interface PatternSettings {
  circuit?: CircuitSettings;
  retry?: RetrySettings;
  rate?: RateSettings;
  dlq?: DlqSettings;
}

export interface RolloutSettings extends PatternSettings {
  /** Share of calls, 0 to 100, sent to this configuration. */
  percent: number;
}

export interface ServiceSettings extends PatternSettings {
  tier?: string;
  rollout?: RolloutSettings;
}

export interface RedisSettings {
  url?: string;
  host?: string;
  port?: number;
  password?: string;
  username?: string;
  db?: number;
  tls?: boolean;
  keyPrefix?: string;
  /** Per-command timeout so an outage never hangs a request. */
  commandTimeout?: Duration;
  connectTimeout?: Duration;
  /** What a limiter does while Redis is unreachable. */
  failureMode?: 'open' | 'closed' | 'local';
}

export interface MetricsSettings {
  enabled?: boolean;
  /** Prepended to every metric name. */
  prefix?: string;
}

export interface HttpSettings {
  /** Rate-limit headers on HTTP responses: the IETF RateLimit-Policy / RateLimit (default), legacy X-RateLimit-*, both, or none. */
  rateLimitHeaders?: 'ietf' | 'legacy' | 'both' | 'none';
  /**
   * Routes that run through a service's full stack without a decorator:
   * `'GET /orders/:id': orders`, `'/users/*': user_api` (any method; `*` matches the rest).
   */
  routes?: Record<string, string>;
}

export type EnvironmentName = 'development' | 'staging' | 'production';

/** The `resilience` key of ConfigService, or the options of `ResilienceModule.forRoot`. */
export interface ResilienceConfig {
  /** Environment profile; defaults to NODE_ENV when it names one. */
  environment?: EnvironmentName;
  defaultTier?: string;
  /** Pre-deployment checks fail bootstrap instead of warning. */
  strict?: boolean;
  /** Settings under every tier (between the environment profile and the tier). */
  defaults?: PatternSettings;
  /** Merged over the guide's tier table; new names add tiers. */
  tiers?: Record<string, PatternSettings>;
  services?: Record<string, ServiceSettings>;
  /** Named rate limiters (e.g. the guide's user tiers free / basic / premium / enterprise). */
  rateLimiters?: Record<string, RateSettings>;
  redis?: RedisSettings;
  deadLetter?: DlqSettings & {
    queues?: Record<string, DlqSettings>;
    /** Lets DeadLetterService.queue() create queues of any (valid) name after bootstrap. Default false. */
    allowDynamicQueues?: boolean;
  };
  metrics?: MetricsSettings;
  http?: HttpSettings;
}
