import { performance } from 'node:perf_hooks';
import { MemoryRateLimitStore, type RateLimitRule } from '../lib/index.js';

const MAX_KEYS = 100_000;
const rule: RateLimitRule = { name: 'evict', strategy: 'token_bucket', rate: 5, windowMs: 60_000, burst: 0 };

/** Cost of each decision (µs): per-decision p50 / p99 / max, over `count` decisions on new keys. */
function decisions(
  store: MemoryRateLimitStore,
  prefix: string,
  count: number,
): { p50: number; p99: number; max: number } {
  const costs = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    store.decideOne(rule, `${prefix}${i}`, 1);
    costs[i] = (performance.now() - started) * 1000;
  }
  costs.sort();
  return { p50: costs[Math.floor(count * 0.5)], p99: costs[Math.floor(count * 0.99)], max: costs[count - 1] };
}

/**
 * Issue 11 item 13: the memory limiter at maxKeys. Every key is new (an attacker rotating
 * keys), each one just used, so no key is idle and every eviction sweeps.
 */
export async function benchLimiterEviction(): Promise<string> {
  const half = new MemoryRateLimitStore({ maxKeys: MAX_KEYS });
  decisions(half, 'warm-', MAX_KEYS / 2 - 20_000);
  const halfFull = decisions(half, 'half-', 20_000);
  const full = new MemoryRateLimitStore({ maxKeys: MAX_KEYS });
  decisions(full, 'fill-', MAX_KEYS);
  const churn = decisions(full, 'churn-', 10 * MAX_KEYS);
  const ratio = churn.p99 / halfFull.p99;
  const row = (name: string, r: { p50: number; p99: number; max: number }) =>
    `| ${name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(0)} |`;
  return [
    `### Memory limiter eviction at maxKeys (${MAX_KEYS.toLocaleString('en')} keys)`,
    '',
    '| case | p50 µs | p99 µs | max µs |',
    '|---|---|---|---|',
    row('table half full, new keys (no eviction)', halfFull),
    row(`table full, ${(10 * MAX_KEYS).toLocaleString('en')} new keys (one eviction each)`, churn),
    '',
    `p99 full / half full: ${ratio.toFixed(2)} (target <= 2): ${ratio <= 2 ? 'met' : 'NOT met'}; longest decision ${churn.max.toFixed(0)} µs (target < 1000 µs): ${churn.max < 1000 ? 'met' : 'NOT met'}`,
  ].join('\n');
}
