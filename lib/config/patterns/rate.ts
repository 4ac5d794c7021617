import { z } from 'zod';
import { RATE_LIMIT_STRATEGIES } from '../../core/rate-limiter/types.js';
import { type ApiKeyValidator, duration, fn, type KeyFunction, nonNegativeInt, strict } from '../schema-parts.js';

// The rate limiter's settings: its section of the configuration schema (the schema adds
// `preset` and `why`), its presets, and what the base layer fills. One entry of the
// pattern table (./index.ts).

/** Built-in rate-limit keys, for configurations that cannot hold a function. */
export const RATE_KEY_KINDS = ['global', 'ip', 'user', 'apiKey'] as const;

/**
 * Rate limiter settings; the first five are the guide's, in camelCase.
 */
const fields = {
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
};

/** The section as a user writes it, without `preset`: what every preset must be. */
const section = strict(fields).partial();

const presets = {
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
} as const satisfies Record<string, z.input<typeof section>>;

export const ratePattern = {
  /** The key of the pattern's section in a tier, a service, a call site and the metrics. */
  key: 'rate' as const,
  fields,
  presets,
  /** The layer under every other: the guide's class defaults. */
  base: {
    rate: 100,
    per: 60,
    burst: 20,
    strategy: 'token_bucket',
    key: 'global',
    ipv6Subnet: 64,
    apiKeyHeader: 'x-api-key',
    mode: 'reject',
    enabled: true,
  } satisfies z.input<typeof section>,
  /**
   * A burst belongs to its rate: a layer that sets a rate without a burst (and no preset) has
   * none, rather than inheriting one sized for another rate.
   */
  ownLayer(fields: Record<string, unknown>, preset: string | undefined): Record<string, unknown> {
    return !preset && fields.rate !== undefined && fields.burst === undefined ? { ...fields, burst: 0 } : fields;
  },
};
