import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { ManualClock, MemoryRateLimitStore, type RateLimitRule, RedisRateLimitStore } from '../../lib/index.js';
import { RATE_LIMIT_LUA } from '../../lib/redis/rate-limit.lua.js';
import { testRedisUrl } from '../support/redis.js';

/**
 * The limiter algorithms exist twice: TypeScript (memory store) and Lua (Redis store).
 * Both get the same decision sequences at the same instants and must give the same
 * verdicts. The Lua is the shipped script with one line changed for the test: its time
 * comes from a key the test sets, instead of the server's TIME, so both sides see one clock.
 */
const NOW_KEY = 'nest-resilience-test:now';
const TIME_LINES = /local t = redis\.call\('TIME'\)\nlocal now = [^\n]+\n/;

function scriptWithTestClock(): string {
  assert.match(RATE_LIMIT_LUA, TIME_LINES, 'the script reads TIME in the two lines this test replaces');
  return RATE_LIMIT_LUA.replace(TIME_LINES, `local now = tonumber(redis.call('GET', '${NOW_KEY}'))\n`);
}

const ruleArb = fc.record({
  name: fc.constant('agree'),
  rate: fc.integer({ min: 1, max: 12 }),
  windowMs: fc.integer({ min: 1, max: 60 }).map((s) => s * 1000),
  burst: fc.integer({ min: 0, max: 4 }),
  strategy: fc.constantFrom<RateLimitRule['strategy']>('token_bucket', 'fixed_window', 'sliding_window'),
});

const stepArb = fc.record({
  // Mostly small steps (bursts inside a window), sometimes past a whole window.
  advanceMs: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 90_000 })),
  key: fc.constantFrom('a', 'b'),
  cost: fc.integer({ min: 1, max: 3 }),
  op: fc.constantFrom('consume', 'consume', 'consume', 'peek'),
});

describe('memory and Redis limiter algorithms agree (fast-check, real redis-server)', () => {
  let client: Redis;
  before(async () => {
    client = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    // Defined before the store is built, so the store uses this variant of the script.
    client.defineCommand('nestResilienceRateLimit', { lua: scriptWithTestClock() });
  });
  after(() => client.quit());

  it('same verdicts for every strategy, key, cost and spacing', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(ruleArb, fc.array(stepArb, { minLength: 1, maxLength: 40 }), async (rule, steps) => {
        run++;
        const clock = new ManualClock(1_700_000_000_000 + run * 1_000_000);
        const memory = new MemoryRateLimitStore({ clock });
        const redis = new RedisRateLimitStore({
          client,
          keyPrefix: `agree:${process.pid}:${run}`,
          failureMode: 'closed',
        });
        for (const [i, step] of steps.entries()) {
          clock.advance(step.advanceMs);
          await client.set(NOW_KEY, String(clock.now()));
          const decide = (store: MemoryRateLimitStore | RedisRateLimitStore) =>
            step.op === 'consume'
              ? store.consume([rule], step.key, step.cost)
              : store.peek([rule], step.key, step.cost);
          const [fromMemory] = await decide(memory);
          const [fromRedis] = await decide(redis);
          const where = `step ${i} of ${JSON.stringify(steps.slice(0, i + 1))} with ${JSON.stringify(rule)}`;
          assert.equal(fromRedis.allowed, fromMemory.allowed, `allowed, ${where}`);
          assert.equal(fromRedis.remaining, fromMemory.remaining, `remaining, ${where}`);
          // Both answer whole milliseconds, rounded up the same way.
          assert.equal(fromRedis.retryAfter, fromMemory.retryAfter, `retryAfter, ${where}`);
          assert.equal(fromRedis.resetAfter, fromMemory.resetAfter, `resetAfter, ${where}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
