import type { ConfigIssue } from '../core/errors.js';
import { formatZodIssues } from './format-issues.js';
import { suspiciousTiers } from './misleading-settings.js';
import { layer, parseResilienceConfig, ResilienceConfigResolver } from './resolve.js';
import type { ResolvedPatterns } from './resolved-types.js';
import { patternSchema } from './schema.js';
import type { CircuitSettings, DlqSettings, RateSettings, ResilienceConfig, RetrySettings } from './types.js';

/** The four objects the guide's `validate_resilience_config(circuit, retry, rate_limiter, dlq)` takes. */
export interface PatternQuad {
  circuit?: CircuitSettings;
  retry?: RetrySettings;
  rate?: RateSettings;
  /** The guide's name for `rate`. */
  rateLimiter?: RateSettings;
  dlq?: DlqSettings;
}

/** What the checks read, durations in seconds. */
interface CheckedValues {
  circuit?: { failureThreshold?: number; timeout: number };
  retry?: { maxAttempts: number; baseDelay: number; exponentialBase: number };
  rate?: { rate: number; burst: number };
  dlq?: { retentionDays: number };
}

/** The guide's "Pre-Deployment Checks", exactly as written there (durations in seconds). */
export function checkPatterns(patterns: CheckedValues, path = ''): ConfigIssue[] {
  const issues: string[] = [];
  const { circuit, retry, rate, dlq } = patterns;
  if (circuit) {
    if (circuit.failureThreshold !== undefined && circuit.failureThreshold < 2)
      issues.push('Circuit failure_threshold too low (<2)');
    if (circuit.timeout < 30) issues.push('Circuit timeout too short (<30s)');
  }
  if (retry) {
    if (retry.maxAttempts > 10) issues.push('Retry max_attempts too high (>10)');
    let totalMaxDelay = 0;
    for (let i = 0; i < retry.maxAttempts; i++) totalMaxDelay += retry.baseDelay * retry.exponentialBase ** i;
    if (totalMaxDelay > 300) issues.push(`Total retry delay too long (${round(totalMaxDelay)}s)`);
  }
  if (rate && rate.burst > rate.rate) issues.push('Rate limiter burst exceeds rate');
  if (dlq && dlq.retentionDays < 1) issues.push('DLQ retention too short (<1 day)');
  return issues.map((message) => ({ path, message }));
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/**
 * Runs the guide's pre-deployment checks. Given a whole configuration, checks every
 * tier, every service and every rollout arm as they resolve; given the guide's
 * `{ circuit, retry, rate, dlq }`, checks those. Schema errors come back too, so one
 * call reports everything. Returns the list; throws nothing.
 */
export function validateResilienceConfig(config: ResilienceConfig | PatternQuad): ConfigIssue[] {
  if (looksLikePatternQuad(config)) return checkQuad(config);
  const parsed = parseResilienceConfig(config);
  if (!parsed.ok) return parsed.issues;
  return checkResolved(ResilienceConfigResolver.from(parsed.config));
}

/** The pre-deployment checks over an already-validated configuration. */
export function checkResolved(resolver: ResilienceConfigResolver): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const add = (path: string, patterns: ResolvedPatterns) => {
    for (const issue of checkPatterns(patterns, path)) {
      const key = `${issue.path}|${issue.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push(issue);
    }
  };
  issues.push(...suspiciousTiers(resolver.config));
  for (const tier of resolver.tierNames()) add(`tiers.${tier}`, resolver.resolveTier(tier));
  for (const service of resolver.serviceNames()) {
    const resolved = resolver.resolve(service);
    add(`services.${service}`, resolved);
    if (resolved.rollout) add(`services.${service}.rollout`, resolved.rollout);
  }
  for (const [name, limiter] of Object.entries(resolver.config.rateLimiters ?? {})) {
    if (limiter.rate !== undefined && limiter.burst !== undefined) {
      for (const issue of checkPatterns(
        { rate: { rate: limiter.rate, burst: limiter.burst } },
        `rateLimiters.${name}`,
      )) {
        issues.push(issue);
      }
    }
  }
  return issues;
}

const QUAD_KEYS = new Set(['circuit', 'retry', 'rate', 'rateLimiter', 'dlq']);

/** A whole configuration never has these at its top level, so an object made only of them is the guide's four. */
function looksLikePatternQuad(config: object): config is PatternQuad {
  const keys = Object.keys(config);
  return keys.length > 0 && keys.every((k) => QUAD_KEYS.has(k));
}

/** Validates the four, fills what they leave out from the built-in base, then checks them. */
function checkQuad(quad: PatternQuad): ConfigIssue[] {
  const { rateLimiter, ...rest } = quad;
  const input = rateLimiter === undefined ? rest : { ...rest, rate: rateLimiter };
  const parsed = patternSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) return formatZodIssues(parsed.error.issues);
  const data = parsed.data;
  const filled: Record<string, unknown> = {};
  for (const pattern of ['circuit', 'retry', 'rate', 'dlq'] as const) {
    if (data[pattern]) filled[pattern] = layer(pattern, [data[pattern]]);
  }
  return checkPatterns(filled as CheckedValues);
}
