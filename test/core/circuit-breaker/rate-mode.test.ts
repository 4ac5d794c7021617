import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreakerPolicy, ManualClock, ResilienceSettings } from '../../../lib/index.js';

const failing = () => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
const ok = () => Promise.resolve('ok');

async function run(breaker: CircuitBreakerPolicy, outcomes: ('ok' | 'fail')[]): Promise<void> {
  for (const outcome of outcomes) await breaker.execute(outcome === 'ok' ? ok : failing).catch(() => undefined);
}

const calls = (failures: number, total: number) =>
  Array.from({ length: total }, (_, i) => (i < total - failures ? 'ok' : 'fail') as 'ok' | 'fail');

describe('rate-mode breaker', () => {
  it('does not also open on the default 5 consecutive failures', async () => {
    const breaker = new CircuitBreakerPolicy('rate', {
      failureRateThreshold: 50,
      minimumCalls: 50,
      slidingWindowSize: 100,
    });
    await run(breaker, calls(20, 20));
    assert.equal(breaker.state, 'closed', 'minimumCalls (50) not reached: the rate is not judged yet');
    await run(breaker, calls(10, 30));
    assert.equal(breaker.state, 'open', '30 failures in 50 calls: 60% > 50%');
  });

  it('opens on consecutive failures too when failureThreshold is set explicitly', async () => {
    const breaker = new CircuitBreakerPolicy('both', {
      failureRateThreshold: 50,
      minimumCalls: 50,
      slidingWindowSize: 100,
      failureThreshold: 5,
    });
    await run(breaker, calls(4, 4));
    assert.equal(breaker.state, 'closed');
    await run(breaker, ['fail']);
    assert.equal(breaker.state, 'open');
  });

  it("opens above the threshold, as the guide says ('>10%'): 2 in 20 stays closed, 3 in 20 opens", async () => {
    for (const [failures, state] of [
      [2, 'closed'],
      [3, 'open'],
    ] as const) {
      const breaker = new CircuitBreakerPolicy('edge', {
        failureRateThreshold: 10,
        minimumCalls: 20,
        slidingWindowSize: 20,
      });
      await run(breaker, calls(failures, 20));
      assert.equal(breaker.state, state, `${failures}/20 at threshold 10`);
    }
  });

  it('the slow-call rate follows the same boundary', async () => {
    const clock = new ManualClock();
    for (const [slow, state] of [
      [2, 'closed'],
      [3, 'open'],
    ] as const) {
      const breaker = new CircuitBreakerPolicy('slow', {
        slowCallRateThreshold: 10,
        slowCallDuration: 1,
        minimumCalls: 20,
        slidingWindowSize: 20,
        clock,
      });
      for (let i = 0; i < 20; i++) {
        await breaker.execute(async () => {
          if (i >= 20 - slow) clock.advance(1000);
          return 'ok';
        });
      }
      assert.equal(breaker.state, state, `${slow}/20 slow at threshold 10`);
    }
  });

  it('refuses minimumCalls above a count window, naming both values', () => {
    assert.throws(
      () => new CircuitBreakerPolicy('never', { failureRateThreshold: 10, minimumCalls: 50, slidingWindowSize: 20 }),
      /minimumCalls \(50\) is greater than slidingWindowSize \(20\)/,
    );
    // A time window counts calls per second, not a fixed number of calls: no such limit.
    new CircuitBreakerPolicy('time', {
      failureRateThreshold: 10,
      minimumCalls: 50,
      slidingWindowType: 'time',
      slidingWindowSize: 20,
    });
    new CircuitBreakerPolicy('equal', { failureRateThreshold: 10, minimumCalls: 20, slidingWindowSize: 20 });
  });
});

describe('rate mode through the configuration layers', () => {
  it('a layer that asks for rate mode drops the consecutive threshold inherited from below', () => {
    const settings = ResilienceSettings.create(
      {
        environment: 'production',
        defaults: { circuit: { failureThreshold: 3 } },
        services: {
          search: { circuit: { failureRateThreshold: 50, minimumCalls: 50 } },
          both: { circuit: { failureRateThreshold: 50, minimumCalls: 50, failureThreshold: 8 } },
          counting: { circuit: { failureThreshold: 4 } },
        },
      },
      { warn: () => undefined },
    );
    assert.equal(settings.resolve('search').circuit.failureThreshold, undefined);
    assert.equal(settings.resolve('search').circuit.failureRateThreshold, 50);
    assert.equal(settings.resolve('both').circuit.failureThreshold, 8);
    assert.equal(settings.resolve('counting').circuit.failureThreshold, 4, 'count mode keeps its threshold');
  });
});

describe('fallback', () => {
  it('answers counted failures and open rejections; an uncounted error passes through untouched', async () => {
    const { NotFoundException } = await import('@nestjs/common');
    const breaker = new CircuitBreakerPolicy('fb', {
      failureThreshold: 2,
      fallback: (e) => `fallback for ${(e as Error).name}`,
    });
    const missing = new NotFoundException('no such order');
    await assert.rejects(
      breaker.execute(() => Promise.reject(missing)),
      (e) => e === missing,
    );
    assert.equal(breaker.metrics().consecutiveFailures, 0, 'a 404 is not counted by default');
    assert.equal(await breaker.execute(failing), 'fallback for Error');
    assert.equal(await breaker.execute(failing), 'fallback for Error');
    assert.equal(breaker.state, 'open');
    assert.equal(await breaker.execute(ok), 'fallback for CircuitOpenError');

    const narrow = new CircuitBreakerPolicy('narrow', {
      expectedExceptions: ['TimeoutError'],
      fallback: () => 'fallback',
    });
    await assert.rejects(narrow.execute(failing), /refused/, 'a ConnectionError is not in expectedExceptions');
  });
});
