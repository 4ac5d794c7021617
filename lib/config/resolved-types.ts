import type { StateChangeListener } from '../core/circuit-breaker/types.js';
import type { ErrorMatcher } from '../core/error-matchers.js';
import type { ApiKeyValidator, DlqBackend, DlqStorageConfig, JitterKind, RateKeyKind, RateStrategy } from './types.js';

/** Settings after layering; every duration is in seconds. */
export interface ResolvedCircuitSettings {
  /** Absent in rate mode unless set at or above the layer that asked for rate mode. */
  failureThreshold?: number;
  successThreshold: number;
  timeout: number;
  halfOpenMaxCalls: number;
  enabled: boolean;
  expectedExceptions?: ErrorMatcher[];
  onStateChange?: StateChangeListener;
  isFailure?: (error: unknown) => boolean;
  isResultFailure?: (result: unknown) => boolean;
  fallback?: (error: unknown) => unknown;
  failureRateThreshold?: number;
  slidingWindowType?: 'count' | 'time';
  slidingWindowSize?: number;
  minimumCalls?: number;
  slowCallDuration?: number;
  slowCallRateThreshold?: number;
  timeoutMultiplier?: number;
  maxTimeout?: number;
  callTimeout?: number;
}

export interface ResolvedRetrySettings {
  maxAttempts: number;
  baseDelay: number;
  maxDelay: number;
  exponentialBase: number;
  jitter: JitterKind;
  enabled: boolean;
  retryableExceptions?: ErrorMatcher[];
  maxTotalDelay?: number;
  deadline?: number;
  budget?: { maxTokens: number; tokenRatio: number };
  retryIf?: (error: unknown, attempt: number) => boolean;
  retryOnResult?: (result: unknown) => boolean;
  onRetry?: (event: { attempt: number; delay: number; error?: unknown; result?: unknown }) => void;
}

export interface ResolvedRateSettings {
  rate: number;
  per: number;
  burst: number;
  strategy: RateStrategy;
  key: RateKeyKind;
  ipv6Subnet: number;
  apiKeyHeader: string;
  validateApiKey?: ApiKeyValidator;
  mode: 'reject' | 'wait';
  enabled: boolean;
  maxWait?: number;
  // biome-ignore lint/suspicious/noExplicitAny: the key function receives whatever the call site has
  keyFunc?: (...args: any[]) => string | undefined;
}

export interface ResolvedDlqSettings {
  queue: string;
  storageBackend: DlqBackend;
  maxRetryAttempts: number;
  retentionDays: number;
  alertThreshold: number;
  rethrow: boolean;
  enabled: boolean;
  storageConfig: Omit<DlqStorageConfig, 'backupInterval'> & { backupInterval?: number };
}

export interface ResolvedPatterns {
  circuit: ResolvedCircuitSettings;
  retry: ResolvedRetrySettings;
  rate: ResolvedRateSettings;
  dlq: ResolvedDlqSettings;
}

/** What a service runs with: its tier, the four patterns, and an optional rollout arm. */
export interface ResolvedServiceConfig extends ResolvedPatterns {
  name: string;
  tier: string;
  environment?: string;
  rollout?: { percent: number } & ResolvedPatterns;
}
