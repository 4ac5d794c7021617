import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ChaosExperiment,
  ChaosInjectedError,
  chaosStage,
  checkInjectableError,
  compose,
  createContext,
  drawLatency,
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

  it('a latency drawn from a distribution: uniform within [min, max], exponential around its mean and capped', async () => {
    const draws = (fault: Parameters<typeof drawLatency>[0], seed: number) => {
      const random = seeded(seed);
      return Array.from({ length: 10_000 }, () => drawLatency(fault, random));
    };
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const uniform = draws({ kind: 'latency', latencyMs: 50, distribution: 'uniform', maxMs: 250 }, 1);
    assert.ok(Math.min(...uniform) >= 50 && Math.max(...uniform) < 250);
    // Mean 150; the standard deviation of the mean is 57.7 / 100 = 0.58: 4 of them.
    assert.ok(Math.abs(mean(uniform) - 150) < 2.4, `uniform mean ${mean(uniform)}`);
    const exponential = draws({ kind: 'latency', latencyMs: 100, distribution: 'exponential', maxMs: 1000 }, 2);
    assert.ok(Math.max(...exponential) <= 1000, 'capped at max');
    assert.ok(
      exponential.some((ms) => ms > 300),
      'a heavy tail: some draws past 3x the mean',
    );
    // Capped at 10x the mean the expected value is 100 * (1 - e^-10) = 99.995; sd of the mean ~1.
    assert.ok(Math.abs(mean(exponential) - 100) < 4, `exponential mean ${mean(exponential)}`);
    const uncapped = draws({ kind: 'latency', latencyMs: 10, distribution: 'exponential' }, 3);
    assert.ok(Math.max(...uncapped) <= 100, 'without max: capped at 10x the mean');
    assert.equal(drawLatency({ kind: 'latency', latencyMs: 70 }, seeded(1)), 70, 'fixed');

    // Through the stage, on a clock with timers: the drawn delay is the one waited.
    const clock = new TimedClock();
    const fault = { kind: 'latency' as const, latencyMs: 100, distribution: 'uniform' as const, maxMs: 200 };
    const run = compose([chaosStage({ experiments: () => [experiment({ fault })], clock, random: () => 0.5 })]);
    let done = false;
    const slow = run(createContext(() => 'real')).then(() => (done = true));
    await clock.advance(149);
    assert.equal(done, false);
    await clock.advance(1);
    assert.equal(await slow, true, '100 + (200 - 100) x 0.5 = 150 ms');
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
