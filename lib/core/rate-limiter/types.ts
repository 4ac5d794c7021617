/** The limiter algorithms (also what the configuration schema accepts). */
export const RATE_LIMIT_STRATEGIES = ['token_bucket', 'fixed_window', 'sliding_window'] as const;
export type RateLimitStrategy = (typeof RATE_LIMIT_STRATEGIES)[number];

/** A limit as the algorithms use it: `rate` per `windowMs`, with `burst` extra capacity. */
export interface RateLimitRule {
  /** The limiter's configured name: the label of its metrics and the namespace of its keys. */
  readonly name: string;
  readonly rate: number;
  readonly windowMs: number;
  readonly burst: number;
  readonly strategy: RateLimitStrategy;
}

/** The outcome of one decision. Durations are seconds. */
export interface RateLimitVerdict {
  allowed: boolean;
  /** The limiter's name (never the key). */
  limiter: string;
  /** rate + burst: what the window (or bucket) holds. */
  limit: number;
  /** Requests left after this decision. */
  remaining: number;
  /** When denied, seconds until the same request would be admitted; 0 when allowed. */
  retryAfter: number;
  /** Seconds until the quota is fully restored. */
  resetAfter: number;
  /** The window, seconds (for the RateLimit-Policy header). */
  window: number;
}

/** A store of limiter state: memory (one process) or Redis (shared). */
export interface RateLimitStore {
  /**
   * One atomic decision over every rule for `key`: admitted only if every rule admits
   * it, and then counted in every rule; a denial counts nowhere.
   */
  consume(rules: readonly RateLimitRule[], key: string, cost: number): Promise<RateLimitVerdict[]> | RateLimitVerdict[];
  /** The verdicts a consume would give, without counting anything. */
  peek(rules: readonly RateLimitRule[], key: string, cost: number): Promise<RateLimitVerdict[]> | RateLimitVerdict[];
  reset(rules: readonly RateLimitRule[], key: string): Promise<void> | void;
}

export function capacity(rule: RateLimitRule): number {
  return rule.rate + rule.burst;
}

export function validateRule(rule: RateLimitRule): RateLimitRule {
  const problems: string[] = [];
  if (!(rule.rate > 0)) problems.push(`rate must be > 0, got ${rule.rate}`);
  if (!(rule.windowMs > 0)) problems.push(`per must be > 0, got ${rule.windowMs / 1000}s`);
  if (!(Number.isInteger(rule.burst) && rule.burst >= 0))
    problems.push(`burst must be an integer >= 0, got ${rule.burst}`);
  if (!RATE_LIMIT_STRATEGIES.includes(rule.strategy)) {
    problems.push(
      `strategy must be token_bucket, fixed_window or sliding_window, got ${JSON.stringify(rule.strategy)}`,
    );
  }
  if (problems.length) throw new RangeError(`rate limiter "${rule.name}": ${problems.join('; ')}`);
  return rule;
}
