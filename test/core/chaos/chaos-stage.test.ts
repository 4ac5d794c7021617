import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ChaosExperiment,
  ChaosInjectedError,
  chaosStage,
  checkInjectableError,
  compose,
  createContext,
  ERROR_FAMILIES,
  httpStatusOf,
  RetryPolicy,
  retryStage,
} from '../../../lib/core/index.js';
import { seeded } from '../../support/overload-simulation.js';
import { TimedClock } from '../../support/timed-clock.js';

const experiment = (over: Partial<ChaosExperiment>): ChaosExperiment => ({
  id: 'e1',
  fault: { kind: 'error', error: 'ConnectionError' },
  rate: 1,
  endsAt: Number.POSITIVE_INFINITY,
  ...over,
});

describe('the chaos stage', () => {
  it('honours the rate within binomial bounds over 10,000 calls, for several seeds', async () => {
    for (const seed of [1, 2, 3]) {
      const run = compose([chaosStage({ experiments: () => [experiment({ rate: 0.3 })], random: seeded(seed) })]);
      let injected = 0;
      for (let i = 0; i < 10_000; i++) await run(createContext(() => 'real')).catch(() => injected++);
      // 3,000 expected; the standard deviation is 45.8: 4 of them either side.
      assert.ok(Math.abs(injected - 3000) <= 184, `seed ${seed}: ${injected} injected`);
    }
  });

  it('an injected error is classified as the real one: family, code, status', async () => {
    const connection = new ChaosInjectedError('ConnectionError', 'x');
    assert.equal(ERROR_FAMILIES.ConnectionError(connection), true);
    assert.equal(connection.code, 'ECONNREFUSED');
    assert.equal(ERROR_FAMILIES.TimeoutError(new ChaosInjectedError('TimeoutError', 'x')), true);
    const unavailable = new ChaosInjectedError('503', 'x');
    assert.equal(httpStatusOf(unavailable), 503);
    assert.equal(ERROR_FAMILIES.ServiceUnavailableError(unavailable), true);
    assert.throws(() => checkInjectableError('Boom'), /not an error family/);
  });

  it('latency delays the call; an outcome replaces it; it ends exactly at endsAt', async () => {
    const clock = new TimedClock();
    const running: ChaosExperiment[] = [experiment({ fault: { kind: 'latency', latencyMs: 100 }, endsAt: 1000 })];
    const run = compose([chaosStage({ experiments: () => running, clock })]);
    let done = false;
    const slow = run(createContext(() => 'real')).then((v) => {
      done = true;
      return v;
    });
    await clock.advance(99);
    assert.equal(done, false);
    await clock.advance(1);
    assert.equal(await slow, 'real');
    running[0] = experiment({ fault: { kind: 'outcome', value: 'canned' }, endsAt: 1000 });
    let ran = false;
    assert.equal(await run(createContext(() => (ran = true))), 'canned');
    assert.equal(ran, false);
    await clock.advance(1000 - clock.now());
    assert.equal(await run(createContext(() => 'real')), 'real', 'ended at endsAt');
  });

  it("per: 'attempt' lets a retry through; per: 'call' fails every attempt of a call it hits", async () => {
    const retry = new RetryPolicy({ maxAttempts: 3, baseDelay: 0, jitter: false, sleep: async () => {} });
    // Draws: hit, miss, ... (the second attempt gets through when each attempt is drawn).
    const draws = () => {
      const sequence = [0, 0.9, 0, 0.9, 0.9, 0.9];
      let i = 0;
      return () => sequence[i++ % sequence.length];
    };
    for (const [per, outcome] of [
      ['attempt', 'real'],
      ['call', 'failed'],
    ] as const) {
      let attempts = 0;
      const run = compose([
        chaosStage({ experiments: () => [experiment({ rate: 0.5, per })], random: draws() }),
        retryStage(retry),
      ]);
      const result = await run(createContext(() => ++attempts && 'real')).catch(() => 'failed');
      assert.equal(result, outcome, per);
      assert.equal(attempts, per === 'attempt' ? 1 : 0, `${per}: operations that really ran`);
    }
  });

  it('an experiment scoped by a predicate never hits other calls', async () => {
    const running = [experiment({ matches: (c) => c.key === 'tenant-a' })];
    const run = compose([chaosStage({ experiments: () => running })]);
    await assert.rejects(run(createContext(() => 'real', [], { key: 'tenant-a' })), ChaosInjectedError);
    assert.equal(await run(createContext(() => 'real', [], { key: 'tenant-b' })), 'real');
  });
});
