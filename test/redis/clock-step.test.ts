import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreakerPolicy, CircuitOpenError, RateLimiter } from '../../lib/core/index.js';
import { createRedisClient } from '../../lib/index.js';
import { CircuitFleet } from '../../lib/redis/shared-circuit/circuit-fleet.js';
import { SharedCircuitBreaker } from '../../lib/redis/shared-circuit/shared-breaker.js';
import { testRedisUrl } from '../support/redis.js';

/** Runs `body` while the wall clock (Date.now) reads `stepMs` off, as after an NTP or VM step. */
async function withWallClockStepped<T>(stepMs: number, body: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => real() + stepMs;
  try {
    return await body();
  } finally {
    Date.now = real;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const boom = () => Promise.reject(new Error('down'));

describe('durations use a monotonic clock: a wall-clock step changes no open time', () => {
  it('a breaker opened for 1 s admits its trial after 1 s though the wall clock stepped back an hour', async () => {
    const breaker = new CircuitBreakerPolicy('ledger', { failureThreshold: 1, timeout: 1 });
    await breaker.execute(boom).catch(() => {});
    assert.equal(breaker.state, 'open');
    await withWallClockStepped(-3_600_000, async () => {
      await sleep(1_100);
      assert.equal(await breaker.execute(async () => 'trial'), 'trial');
    });
  });

  it('a wall clock stepped forward an hour does not end an open time early', async () => {
    const breaker = new CircuitBreakerPolicy('ledger', { failureThreshold: 1, timeout: 1 });
    await breaker.execute(boom).catch(() => {});
    await withWallClockStepped(3_600_000, async () => {
      await assert.rejects(
        breaker.execute(async () => 'too early'),
        CircuitOpenError,
      );
    });
  });

  it('a rate limiter’s window does not reset when the wall clock steps forward', async () => {
    const limiter = new RateLimiter({ name: 'api', rate: 2, per: 60, strategy: 'fixed_window' });
    assert.equal((await limiter.consume('k')).allowed, true);
    assert.equal((await limiter.consume('k')).allowed, true);
    await withWallClockStepped(3_600_000, async () => {
      await sleep(5);
      assert.equal((await limiter.consume('k')).allowed, false, 'still the same window');
    });
  });

  it('a shared breaker (Redis TIME for the fleet, time left carried over): the same after a step back of an hour', async () => {
    const client = await createRedisClient({ url: testRedisUrl() });
    const fleet = new CircuitFleet({ client, keyPrefix: `clock-step-${process.pid}` });
    const breaker = new SharedCircuitBreaker('ledger', { failureThreshold: 1, timeout: 1, fleet });
    try {
      await breaker.refresh();
      await breaker.execute(boom).catch(() => {});
      assert.equal(breaker.state, 'open');
      await withWallClockStepped(-3_600_000, async () => {
        await sleep(1_100);
        assert.equal(await breaker.execute(async () => 'trial'), 'trial');
      });
    } finally {
      breaker.dispose();
      fleet.close();
      client.disconnect();
    }
  });
});
