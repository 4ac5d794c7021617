import type { Redis } from 'ioredis';
import { CircuitBreakerPolicy, CircuitFleet, createRedisClient, SharedCircuitBreaker } from '../lib/index.js';
import { check, formatTable, measure } from './harness.js';
import { startBenchRedis } from './redis-server.js';

const noop = () => {};
const work = async () => 1;
const failure = new Error('down');
const fail = async () => {
  throw failure;
};
const NEVER = { failureThreshold: Number.MAX_SAFE_INTEGER, timeout: 3600 };

/** p-th percentile of `values` (ms). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Time from one replica's transition to another replica acting on it, over real pub/sub. */
async function propagation(a: SharedCircuitBreaker, b: SharedCircuitBreaker, times: number): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < times; i++) {
    const target = i % 2 === 0 ? 'open' : 'closed';
    const heard = new Promise<number>((resolve) => {
      const stop = b.onStateChange(({ to }) => {
        if (to !== target) return;
        stop();
        resolve(performance.now());
      });
    });
    const started = performance.now();
    if (target === 'open') a.forceOpen();
    else a.forceClose();
    const timeout = new Promise<number>((_, reject) =>
      setTimeout(() => reject(new Error(`replica b did not hear "${target}" within 5 s`)), 5000).unref(),
    );
    delays.push((await Promise.race([heard, timeout])) - started);
  }
  return delays;
}

export async function benchSharedCircuit(): Promise<string> {
  const redis = await startBenchRedis();
  const clients: Redis[] = [];
  const fleetOn = async (name: string) => {
    const client = await createRedisClient({ url: redis.url });
    clients.push(client);
    return new CircuitFleet({ client, keyPrefix: `bench-${name}` });
  };
  const fleetA = await fleetOn('shared');
  const fleetB = await fleetOn('shared');
  try {
    const local = new CircuitBreakerPolicy('local', NEVER);
    const shared = new SharedCircuitBreaker('closed', { ...NEVER, fleet: fleetA });
    const localOpen = new CircuitBreakerPolicy('local-open', { failureThreshold: 1, timeout: 3600 });
    await localOpen.execute(fail).catch(noop);
    const sharedOpen = new SharedCircuitBreaker('open', { failureThreshold: 1, timeout: 3600, fleet: fleetA });
    await sharedOpen.execute(fail).catch(noop);
    const failing = new SharedCircuitBreaker('failing', { ...NEVER, fleet: fleetA });
    await failing.refresh();
    const script = clients[0] as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
    const base = '{bench-shared:circuit:bare}';
    const keys = [base, `${base}:leases`, `${base}:window`, `${base}:replicas`, `${base}:open`];
    const settings = `${Number.MAX_SAFE_INTEGER}|2|3600000|1|36000000|1|3600000|0|0|0|-1|-1`;
    const bare = () => script.nestResilienceCircuit(...keys, 'fail', -1, 'bench-bare', 'bare', settings, 0, 0);

    const inMemory = await measure({
      'local: closed success': async (n) => {
        for (let i = 0; i < n; i++) await local.execute(work);
      },
      'shared: closed success (successes batched)': async (n) => {
        for (let i = 0; i < n; i++) await shared.execute(work);
      },
      'local: rejection while open': async (n) => {
        for (let i = 0; i < n; i++) await localOpen.execute(work).catch(noop);
      },
      'shared: rejection while open': async (n) => {
        for (let i = 0; i < n; i++) await sharedOpen.execute(work).catch(noop);
      },
    });
    const roundTrips = await measure(
      {
        'bare EVALSHA of the same script (fail op)': async (n) => {
          for (let i = 0; i < n; i++) await bare();
        },
        'shared: failure (one round trip, fleet state back)': async (n) => {
          for (let i = 0; i < n; i++) await failing.execute(fail).catch(noop);
        },
      },
      { iterations: 3000, rounds: 7, warmup: 1 },
    );
    const a = new SharedCircuitBreaker('propagation', { fleet: fleetA });
    const b = new SharedCircuitBreaker('propagation', { fleet: fleetB });
    await Promise.all([a.refresh(), b.refresh()]);
    const delays = await propagation(a, b, 400);
    if (!a.sharing || !b.sharing) throw new Error('a replica lost Redis during the benchmark');
    for (const breaker of [shared, sharedOpen, failing, a, b]) breaker.dispose();
    const results = { ...inMemory, ...roundTrips };
    const r = (name: string) => results[name];
    const table = formatTable('Shared circuit breaker (issue 17)', results, [
      check(
        'closed success: shared / local',
        r('shared: closed success (successes batched)'),
        r('local: closed success'),
        1.2,
      ),
      check(
        'rejection while open: shared / local',
        r('shared: rejection while open'),
        r('local: rejection while open'),
        1.2,
      ),
      check(
        'failure: shared / bare EVALSHA (one round trip)',
        r('shared: failure (one round trip, fleet state back)'),
        r('bare EVALSHA of the same script (fail op)'),
        1.2,
      ),
    ]);
    const p50 = percentile(delays, 50).toFixed(2);
    const p99 = percentile(delays, 99).toFixed(2);
    const max = Math.max(...delays).toFixed(2);
    return `${table}\n\nPropagation of a transition to another replica (400 transitions, pub/sub on loopback): p50 ${p50} ms, p99 ${p99} ms, max ${max} ms (target p99 < 100 ms: ${Number(p99) < 100 ? 'met' : 'NOT met'})`;
  } finally {
    fleetA.close();
    fleetB.close();
    for (const client of clients) client.disconnect();
    redis.stop();
  }
}
