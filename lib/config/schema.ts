import { z } from 'zod';
import { DURATION_HINT, tryParseDuration } from '../core/duration.js';
import { RATE_LIMIT_STRATEGIES } from '../core/rate-limiter/types.js';
import { JITTER_KINDS } from '../core/retry/backoff.js';
import { presets } from './presets.js';

/** Every key a configuration object may hold; used to suggest a fix for a typo. */
export const KNOWN_KEYS = new Set<string>();

function strict<T extends z.ZodRawShape>(shape: T) {
  for (const key of Object.keys(shape)) KNOWN_KEYS.add(key);
  return z.strictObject(shape);
}

/** A duration in seconds or with a unit; parsed to seconds. */
function duration(options: { positive?: boolean } = {}) {
  return z.unknown().transform((value, ctx) => {
    const seconds = tryParseDuration(value);
    if (seconds === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid duration ${describe(value)} (use ${DURATION_HINT})`,
        input: value,
      });
      return z.NEVER;
    }
    if (options.positive && seconds <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be > 0, got ${describe(value)}`, input: value });
      return z.NEVER;
    }
    return seconds;
  });
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`.replace(/^number /, '');
}

const fn = (what: string) =>
  z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { message: `${what} must be a function` });

const errorMatcher = z.union([z.string().min(1), fn('an error matcher')], {
  error: (issue) => `expected an error class, an error name or a predicate, got ${describe(issue.input)}`,
});
const errorMatchers = z.array(errorMatcher);
const percent = z.number().gt(0).max(100);
const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);

function presetName(names: readonly string[]) {
  return z.enum(names as [string, ...string[]]);
}

export const circuitSchema = strict({
  preset: presetName(Object.keys(presets.circuit)),
  failureThreshold: positiveInt,
  successThreshold: positiveInt,
  timeout: duration({ positive: true }),
  expectedExceptions: errorMatchers,
  onStateChange: fn('onStateChange'),
  isFailure: fn('isFailure'),
  isResultFailure: fn('isResultFailure'),
  fallback: fn('fallback'),
  failureRateThreshold: percent,
  slidingWindowType: z.enum(['count', 'time']),
  slidingWindowSize: positiveInt,
  minimumCalls: positiveInt,
  slowCallDuration: duration({ positive: true }),
  slowCallRateThreshold: percent,
  halfOpenMaxCalls: positiveInt,
  halfOpenTrialTimeout: duration({ positive: true }),
  timeoutMultiplier: z.number().min(1),
  maxTimeout: duration({ positive: true }),
  callTimeout: duration({ positive: true }),
  enabled: z.boolean(),
}).partial();

const jitter = z.union([z.boolean(), z.enum(JITTER_KINDS), z.number().min(0).max(1)], {
  error: (issue) =>
    `expected true, false, 'full', 'equal', 'decorrelated' or a ratio from 0 to 1, got ${describe(issue.input)}`,
});

export const retrySchema = strict({
  preset: presetName(Object.keys(presets.retry)),
  maxAttempts: positiveInt,
  baseDelay: duration(),
  maxDelay: duration(),
  exponentialBase: z.number().min(1),
  jitter,
  retryableExceptions: errorMatchers,
  maxTotalDelay: duration(),
  budget: strict({ maxTokens: z.number().gt(0), tokenRatio: z.number().gt(0) }),
  deadline: duration({ positive: true }),
  retryIf: fn('retryIf'),
  retryOnResult: fn('retryOnResult'),
  onRetry: fn('onRetry'),
  enabled: z.boolean(),
}).partial();

export const rateSchema = strict({
  preset: presetName(Object.keys(presets.rate)),
  rate: z.number().gt(0),
  per: duration({ positive: true }),
  burst: nonNegativeInt,
  strategy: z.enum(RATE_LIMIT_STRATEGIES),
  keyFunc: fn('keyFunc'),
  key: z.enum(['global', 'ip', 'user', 'apiKey']),
  ipv6Subnet: z.number().int().min(8).max(128),
  apiKeyHeader: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'must be an HTTP header name' }),
  validateApiKey: fn('validateApiKey'),
  mode: z.enum(['reject', 'wait']),
  maxWait: duration(),
  enabled: z.boolean(),
}).partial();

const storageConfigSchema = strict({
  filePath: z.string().min(1),
  backupEnabled: z.boolean(),
  backupInterval: duration({ positive: true }),
  redisUrl: z.string().regex(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' }),
  keyPrefix: z.string().min(1),
  maxMessageSize: positiveInt,
  truncate: z.boolean(),
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

const dlqShape = {
  preset: presetName(Object.keys(presets.dlq)),
  storageBackend: z.enum(['memory', 'file', 'redis', 'sqs']),
  maxRetryAttempts: nonNegativeInt,
  retentionDays: z.number().gt(0),
  alertThreshold: positiveInt,
  storageConfig: storageConfigSchema,
  queue: z.string().min(1),
  rethrow: z.boolean(),
  enabled: z.boolean(),
};
export const dlqSchema = strict(dlqShape).partial();

const patternShape = {
  circuit: circuitSchema,
  retry: retrySchema,
  rate: rateSchema,
  dlq: dlqSchema,
};
export const patternSchema = strict(patternShape).partial();

const rolloutSchema = strict({ ...patternShape, percent: z.number().min(0).max(100) })
  .partial()
  .required({ percent: true });

const serviceSchema = strict({ ...patternShape, tier: z.string().min(1), rollout: rolloutSchema }).partial();

const redisSchema = strict({
  url: z.string().regex(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' }),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  password: z.string(),
  username: z.string(),
  db: nonNegativeInt,
  tls: z.boolean(),
  keyPrefix: z.string().min(1),
  commandTimeout: duration({ positive: true }),
  connectTimeout: duration({ positive: true }),
  failureMode: z.enum(['open', 'closed', 'local']),
}).partial();

const routePattern = z.string().regex(/^((GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ALL) )?\/\S*$/, {
  message: "must be a route such as 'GET /orders/:id', '/users/*'",
});
const httpSchema = strict({
  rateLimitHeaders: z.enum(['ietf', 'legacy', 'both', 'none']),
  routes: z.record(routePattern, z.string().min(1)),
}).partial();

export const configSchema = strict({
  environment: z.enum(['development', 'staging', 'production']),
  defaultTier: z.string().min(1),
  strict: z.boolean(),
  defaults: patternSchema,
  tiers: z.record(z.string().min(1), patternSchema),
  services: z.record(z.string().min(1), serviceSchema),
  rateLimiters: z.record(z.string().min(1), rateSchema),
  redis: redisSchema,
  deadLetter: strict({
    ...dlqShape,
    queues: z.record(z.string().min(1), dlqSchema),
    allowDynamicQueues: z.boolean(),
  }).partial(),
  http: httpSchema,
  metrics: strict({
    enabled: z.boolean(),
    prefix: z.string().regex(/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/, {
      message: 'must be a valid Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)',
    }),
  }).partial(),
}).partial();
