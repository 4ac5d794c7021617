import { bulkheadSettings } from '../core/bulkhead/options.js';
import { breakerSettings } from '../core/circuit-breaker/options.js';
import type { ConfigIssue } from '../core/errors.js';
import { RateLimiter } from '../core/rate-limiter/rate-limiter.js';
import { RetryPolicy } from '../core/retry/retry-policy.js';
import { breakerOptionsOf, bulkheadOptionsOf, limiterRule, retryOptionsOf } from './policy-options.js';
import type { ResolvedPatterns } from './resolved-types.js';
import type { ResilienceConfig } from './types.js';

/** What to check: each tier, each service and each rollout arm, as the app resolves them. */
export interface ResolvedTarget {
  path: string;
  patterns: ResolvedPatterns;
}

function attempt(path: string, issues: ConfigIssue[], check: () => unknown): void {
  try {
    check();
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) issues.push({ path, message: error.message });
    else throw error;
  }
}

/**
 * The checks the policies make when the app builds them, run on every resolved service, tier
 * and rollout arm: `nest-resilience check` and the app's boot refuse exactly the same
 * configurations (a minimumCalls over a count window, a maxTimeout under the timeout, a shared
 * breaker without Redis were refused at boot after check passed them).
 */
export function checkPolicies(config: ResilienceConfig, targets: ResolvedTarget[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const { path, patterns } of targets) {
    const { circuit, retry, rate, bulkhead, timeout } = patterns;
    if (timeout.enabled && timeout.timeout === undefined) {
      issues.push({
        path: `${path}.timeout.timeout`,
        message: 'is required once the timeout is on (e.g. 5 or "500ms")',
      });
    }
    const { scope, quorum, options: breaker } = breakerOptionsOf(circuit);
    attempt(`${path}.circuit`, issues, () => breakerSettings(breaker));
    if (scope !== 'local' && !config.redis) {
      issues.push({
        path: `${path}.circuit.scope`,
        message: `${JSON.stringify(scope)} keeps the state in Redis, and no redis is configured (set redis: url, host, cluster, sentinels or client; or scope: 'local')`,
      });
    }
    if (quorum !== undefined && scope !== 'quorum') {
      issues.push({
        path: `${path}.circuit.quorum`,
        message: `is set but scope is ${JSON.stringify(scope)}; quorum applies only to scope 'quorum'`,
      });
    }
    if (scope === 'quorum' && (!quorum || (quorum.replicas === undefined) === (quorum.percent === undefined))) {
      issues.push({
        path: `${path}.circuit.quorum`,
        message: `scope 'quorum' needs quorum.replicas (a count) or quorum.percent (of the fleet), exactly one${quorum ? `, got ${JSON.stringify(quorum)}` : ''}`,
      });
    }
    attempt(`${path}.retry`, issues, () => new RetryPolicy(retryOptionsOf(retry)));
    attempt(`${path}.rate`, issues, () => new RateLimiter(limiterRule(rate)));
    if (bulkhead.enabled) attempt(`${path}.bulkhead`, issues, () => bulkheadSettings(bulkheadOptionsOf(bulkhead)));
  }
  // One message per place: a tier's problem shows once, not again for every service of it.
  return issues.filter((issue) => {
    const key = `${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
