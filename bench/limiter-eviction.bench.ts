import { type PerformanceEntry, PerformanceObserver, performance } from 'node:perf_hooks';
import { MemoryRateLimitStore, type RateLimitRule } from '../lib/index.js';

const MAX_KEYS = 100_000;
const SPIKE_US = 1000;
const rule: RateLimitRule = { name: 'evict', strategy: 'token_bucket', rate: 5, windowMs: 60_000, burst: 0 };

interface Costs {
  p50: number;
  p99: number;
  max: number;
  /** Decisions over SPIKE_US: when they started and how long they took (ms). */
  spikes: { start: number; took: number }[];
}

/** Times `count` calls of `step(i)` (µs each): p50 / p99 / max, and the calls over SPIKE_US. */
function timed(count: number, step: (i: number) => void): Costs {
  const costs = new Float64Array(count);
  const spikes: Costs['spikes'] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    step(i);
    const took = performance.now() - started;
    costs[i] = took * 1000;
    if (costs[i] > SPIKE_US) spikes.push({ start: started, took });
  }
  costs.sort();
  return { p50: costs[Math.floor(count * 0.5)], p99: costs[Math.floor(count * 0.99)], max: costs[count - 1], spikes };
}

const decisions = (store: MemoryRateLimitStore, prefix: string, count: number) =>
  timed(count, (i) => store.decideOne(rule, `${prefix}${i}`, 1));

/** The same key churn on one bare Map of MAX_KEYS entries (delete the oldest, add the new). */
function bareMap(count: number): Costs {
  const map = new Map<string, number>();
  const order: string[] = [];
  for (let i = 0; i < MAX_KEYS; i++) {
    map.set(`fill-${i}`, i);
    order.push(`fill-${i}`);
  }
  return timed(count, (i) => {
    const key = `churn-${i}`;
    map.delete(order[i % MAX_KEYS] as string);
    map.set(key, i);
    order[i % MAX_KEYS] = key;
  });
}

/** The spikes that no garbage collection overlapped: the ones the code itself caused. */
function outsideGc(costs: Costs, gcs: PerformanceEntry[]): number {
  let longest = 0;
  for (const spike of costs.spikes) {
    const end = spike.start + spike.took;
    const overlapped = gcs.some((gc) => gc.startTime < end && gc.startTime + gc.duration > spike.start);
    if (!overlapped) longest = Math.max(longest, spike.took * 1000);
  }
  return longest;
}

/**
 * Issue 11 item 13: the memory limiter at maxKeys. Every key is new (an attacker rotating
 * keys), each one just used, so no key is idle and every eviction sweeps. A decision that
 * takes over 1 ms is either our code (a sweep, a Map rehash) or V8 collecting garbage
 * in the middle of it; the GC entries of perf_hooks tell which.
 */
export async function benchLimiterEviction(): Promise<string> {
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const half = new MemoryRateLimitStore({ maxKeys: MAX_KEYS });
  decisions(half, 'warm-', MAX_KEYS / 2 - 20_000);
  const halfFull = decisions(half, 'half-', 20_000);
  const full = new MemoryRateLimitStore({ maxKeys: MAX_KEYS });
  decisions(full, 'fill-', MAX_KEYS);
  const churn = decisions(full, 'churn-', 10 * MAX_KEYS);
  const baseline = bareMap(10 * MAX_KEYS);
  await new Promise((resolve) => setTimeout(resolve, 100)); // GC entries arrive asynchronously
  observer.disconnect();
  const ratio = churn.p99 / halfFull.p99;
  const ownLongest = outsideGc(churn, gcs);
  const longestGc = Math.max(0, ...gcs.map((gc) => gc.duration * 1000));
  const row = (name: string, r: Costs) =>
    `| ${name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(0)} | ${r.spikes.length} | ${outsideGc(r, gcs).toFixed(0)} |`;
  return [
    `### Memory limiter eviction at maxKeys (${MAX_KEYS.toLocaleString('en')} keys)`,
    '',
    '| case | p50 µs | p99 µs | max µs | calls > 1 ms | longest with no GC during it, µs |',
    '|---|---|---|---|---|---|',
    row('table half full, new keys (no eviction)', halfFull),
    row(`table full, ${(10 * MAX_KEYS).toLocaleString('en')} new keys (one eviction each)`, churn),
    row('baseline: one bare Map, same churn (delete oldest, add new)', baseline),
    '',
    `p99 full / half full: ${ratio.toFixed(2)} (target <= 2): ${ratio <= 2 ? 'met' : 'NOT met'}; ` +
      `longest decision with no GC during it ${ownLongest.toFixed(0)} µs (target < 1000 µs): ${ownLongest < SPIKE_US ? 'met' : 'NOT met'}; ` +
      `longest decision overall ${churn.max.toFixed(0)} µs, longest GC pause ${longestGc.toFixed(0)} µs`,
  ].join('\n');
}
