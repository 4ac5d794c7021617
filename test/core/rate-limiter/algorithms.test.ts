import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ManualClock,
  MemoryRateLimitStore,
  RateLimitExceededError,
  RateLimiter,
  type RateLimiterOptions,
} from '../../../lib/index.js';

function limiter(options: Omit<RateLimiterOptions, 'clock'>, start = 0) {
  const clock = new ManualClock(start);
  return { limiter: new RateLimiter({ clock, ...options }), clock };
}

async function admitted(l: RateLimiter, n: number, key = 'k'): Promise<number> {
  let count = 0;
  for (let i = 0; i < n; i++) if ((await l.consume(key)).allowed) count++;
  return count;
}

describe('token bucket (GCRA)', () => {
  it('admits rate + burst at once, then refills at rate per window', async () => {
    const { limiter: l, clock } = limiter({ rate: 100, per: 60, burst: 20, strategy: 'token_bucket' });
    assert.equal(await admitted(l, 200), 120, "the guide's basic limiter: 100 + 20 burst");
    clock.advance(600); // one token refills every 0.6 s
    assert.equal(await admitted(l, 5), 1);
    clock.advance(6000);
    assert.equal(await admitted(l, 50), 10);
  });

  it('reports remaining, retryAfter and resetAfter exactly', async () => {
    const { limiter: l, clock } = limiter({ rate: 10, per: 10, burst: 0 });
    const first = await l.consume();
    assert.deepEqual(
      {
        allowed: first.allowed,
        remaining: first.remaining,
        retryAfter: first.retryAfter,
        resetAfter: first.resetAfter,
        limit: first.limit,
        window: first.window,
      },
      { allowed: true, remaining: 9, retryAfter: 0, resetAfter: 1, limit: 10, window: 10 },
    );
    await admitted(l, 9, 'global');
    const denied = await l.consume();
    assert.equal(denied.allowed, false);
    assert.equal(denied.remaining, 0);
    assert.equal(denied.retryAfter, 1);
    // t is when `remaining` next goes up (the next token), not when the bucket is full again.
    assert.equal(denied.resetAfter, 1);
    clock.advance(999);
    assert.equal((await l.consume()).allowed, false);
    clock.advance(1);
    assert.equal((await l.consume()).allowed, true);
  });

  it('burst 0 (Twitter: 300 per 15 min) admits exactly the rate', async () => {
    const { limiter: l } = limiter({ rate: 300, per: '15m', burst: 0 });
    assert.equal(await admitted(l, 400), 300);
  });

  it('charges a cost and refuses one above the capacity', async () => {
    const { limiter: l } = limiter({ rate: 10, per: 1, burst: 0 });
    assert.equal((await l.consume('k', 7)).remaining, 3);
    assert.equal((await l.consume('k', 4)).allowed, false);
    assert.equal((await l.consume('k', 3)).allowed, true);
    assert.throws(() => l.consume('k', 11), /cost must be an integer from 1 to 10, got 11/);
  });
});

describe('fixed window', () => {
  it('admits rate + burst per window and resets at the boundary', async () => {
    const { limiter: l, clock } = limiter({ rate: 1000, per: 60, burst: 100, strategy: 'fixed_window' });
    assert.equal(await admitted(l, 1200), 1100);
    clock.advance(59_999);
    const denied = await l.consume('k');
    assert.equal(denied.allowed, false);
    assert.equal(denied.retryAfter, 0.001);
    clock.advance(1);
    assert.equal(await admitted(l, 1200), 1100);
  });

  it('allows the classic boundary burst (2x in a short span), which the sliding window prevents', async () => {
    const fixed = limiter({ rate: 10, per: 10, strategy: 'fixed_window' }, 9_000);
    const sliding = limiter({ rate: 10, per: 10, strategy: 'sliding_window' }, 9_000);
    const f1 = await admitted(fixed.limiter, 10);
    const s1 = await admitted(sliding.limiter, 10);
    fixed.clock.advance(1_000);
    sliding.clock.advance(1_000);
    assert.equal(f1 + (await admitted(fixed.limiter, 10)), 20, 'fixed: 20 within 1 s across the boundary');
    assert.equal(s1 + (await admitted(sliding.limiter, 10)), 10, 'sliding: the previous window still weighs 100%');
  });
});

describe('sliding window (weighted counter)', () => {
  it('weights the previous window by the part of it still inside the window', async () => {
    const { limiter: l, clock } = limiter({ rate: 100, per: 60, burst: 0, strategy: 'sliding_window' });
    assert.equal(await admitted(l, 100), 100);
    clock.advance(60_000 + 15_000); // a quarter into the next window: 75 of 100 still count
    assert.equal(await admitted(l, 100), 25);
    clock.advance(15_000); // half: 50 + 25 counted
    assert.equal(await admitted(l, 100), 25);
  });

  it('computes when a denied request would be admitted', async () => {
    const { limiter: l, clock } = limiter({ rate: 10, per: 10, burst: 0, strategy: 'sliding_window' });
    await admitted(l, 10);
    clock.advance(10_000);
    const denied = await l.consume('k');
    // previous = 10 weighs 10 * (1 - f); one more fits when 10 * (1 - f) <= 9: f = 0.1, 1 s into the window.
    assert.equal(denied.allowed, false);
    assert.equal(denied.retryAfter, 1);
    clock.advance(999);
    assert.equal((await l.consume('k')).allowed, false);
    clock.advance(1);
    assert.equal((await l.consume('k')).allowed, true);
  });
});

describe('memory store bounds', () => {
  it('forgets the least recently used keys beyond maxKeys, idle ones first', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryRateLimitStore({ maxKeys: 3, clock });
    const l = new RateLimiter({ name: 'lru', rate: 1, per: 60, store, clock });
    for (const key of ['a', 'b', 'c']) await l.consume(key);
    await l.consume('a'); // a is recently used (and denied: its state is kept)
    await l.consume('d'); // evicts b (second chance spares a)
    assert.equal(store.size('lru'), 3);
    assert.equal((await l.consume('a')).allowed, false, 'a kept its state');
    assert.equal((await l.consume('b')).allowed, true, 'b was forgotten');
  });

  it('at maxKeys with every key busy, each new key costs a bounded sweep (O(1), never a pass over the table)', () => {
    const clock = new ManualClock(0);
    const store = new MemoryRateLimitStore({ maxKeys: 1000, clock });
    const rule = { name: 'busy', rate: 5, windowMs: 60_000, burst: 0, strategy: 'token_bucket' as const };
    for (let round = 0; round < 2; round++) for (let i = 0; i < 1000; i++) store.decideOne(rule, `k${i}`, 1);
    const table = store.table(rule);
    for (let i = 0; i < 100_000; i++) assert.equal(store.decideOne(rule, `new${i}`, 1).allowed, true);
    assert.equal(store.size('busy'), 1000);
    assert.equal(table.sweep.evictions, 100_000);
    assert.ok(
      table.sweep.probes / table.sweep.evictions <= 33,
      `${table.sweep.probes / table.sweep.evictions} probes per eviction`,
    );
    assert.ok(table.sweep.maxProbes <= 33, `one eviction looked at ${table.sweep.maxProbes} slots`);
  });

  it('holds no timer per key', async () => {
    const before = (process as unknown as { getActiveResourcesInfo(): string[] })
      .getActiveResourcesInfo()
      .filter((r) => r === 'Timeout').length;
    const l = new RateLimiter({ rate: 5, per: 1 });
    for (let i = 0; i < 10_000; i++) await l.consume(`key-${i}`);
    const after = (process as unknown as { getActiveResourcesInfo(): string[] })
      .getActiveResourcesInfo()
      .filter((r) => r === 'Timeout').length;
    assert.equal(after, before);
  });
});

describe('modes', () => {
  it("'reject' throws RateLimitExceededError with retryAfter and the quota", async () => {
    const { limiter: l } = limiter({ name: 'api', rate: 2, per: 10 });
    await l.acquire();
    await l.acquire();
    const error = await l.acquire().catch((e) => e);
    assert.ok(error instanceof RateLimitExceededError);
    assert.equal(error.retryAfter, 5);
    assert.equal(error.limit, 2);
    assert.equal(error.remaining, 0);
    assert.equal(error.limiter, 'api');
    assert.match(error.message, /Rate limit "api" exceeded; retry after 5s/);
  });

  it("'wait' queues calls in order until a token is free, up to maxWait", async () => {
    const clock = new ManualClock(0);
    const order: number[] = [];
    const l = new RateLimiter({
      name: 'stripe',
      rate: 2,
      per: 1,
      mode: 'wait',
      maxWait: '2s',
      clock,
      sleep: async (ms) => clock.advance(ms),
    });
    await Promise.all([0, 1, 2, 3, 4].map((i) => l.execute(async () => order.push(i))));
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(clock.now(), 1500, 'three waited 0.5 s each after the first two');
    const tooLong = new RateLimiter({
      rate: 1,
      per: 60,
      mode: 'wait',
      maxWait: '1s',
      clock,
      sleep: async (ms) => clock.advance(ms),
    });
    await tooLong.acquire();
    await assert.rejects(tooLong.acquire(), RateLimitExceededError);
  });
});
