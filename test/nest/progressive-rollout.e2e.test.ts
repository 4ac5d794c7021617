import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import {
  RESILIENCE_CLOCK,
  ResilienceModule,
  Resilient,
  type RolloutJudgment,
  RolloutProgress,
  RolloutShares,
} from '../../lib/index.js';
import { seeded } from '../support/overload-simulation.js';
import { TimedClock } from '../support/timed-clock.js';

/** A dependency failing 2% of calls (seeded), answering at once otherwise. */
const dependency = { random: seeded(7), failRate: 0.02, calls: 0 };

@Injectable()
class Orders {
  @Resilient('orders')
  async place(): Promise<string> {
    dependency.calls++;
    if (dependency.random() < dependency.failRate)
      throw Object.assign(new Error('orders store refused'), { code: 'ECONNREFUSED' });
    return 'placed';
  }
}

/** A service whose rollout arm carries `arm`, rolled out 5 -> 25 -> 50 -> 100, judged every minute. */
function moduleWith(arm: object) {
  @Module({
    imports: [
      ResilienceModule.forRoot({
        metrics: { enabled: true },
        services: {
          orders: {
            circuit: { failureThreshold: 5, timeout: 10 },
            retry: { maxAttempts: 1 },
            rate: { enabled: false },
            dlq: { enabled: false },
            rollout: {
              steps: [5, 25, 50, 100],
              interval: '1m',
              analysis: { minCalls: 50, maxFailureRateIncrease: 0.01, maxRejectionRateIncrease: 0.01 },
              ...arm,
            },
          },
        },
      }),
    ],
    providers: [Orders],
  })
  class OrdersModule {}
  return OrdersModule;
}

/** Runs `minutes` minutes of traffic: 6,000 calls a minute, spread over it; returns every judgment. */
async function traffic(arm: object, minutes: number) {
  const clock = new TimedClock();
  const moduleRef = await Test.createTestingModule({ imports: [moduleWith(arm)] })
    .overrideProvider(RESILIENCE_CLOCK)
    .useValue(clock)
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const judgments: RolloutJudgment[] = [];
  app.get(RolloutProgress).onJudgment((judgment) => judgments.push(judgment));
  const orders = app.get(Orders);
  const shares: number[] = [];
  let failed = 0;
  try {
    for (let minute = 0; minute < minutes; minute++) {
      for (let i = 0; i < 100; i++) {
        for (let j = 0; j < 60; j++) await orders.place().catch(() => failed++);
        await clock.advance(600);
      }
      shares.push(app.get(RolloutShares).percent('orders'));
    }
    return { judgments, shares, failed, state: app.get(RolloutProgress).of('orders')?.state };
  } finally {
    await app.close();
  }
}

describe('a progressive rollout judged live (in-process, virtual time, a dependency failing 2% of calls)', () => {
  it('rolls a bad arm back (failureThreshold: 1 flaps on 2% errors), saying why', async (t) => {
    const { judgments, shares, state } = await traffic({ circuit: { failureThreshold: 1, timeout: 10 } }, 3);
    // Which calls meet the rollout arm is random (keyless calls): at 5% about 300 a minute, of
    // which none fails once in 500 runs; then it flaps at 25%. Rolled back at the first or second judgment.
    const decided = judgments.filter((j) => j.decision !== 'waited').map((j) => j.decision);
    assert.ok(['rolled_back', 'advanced,rolled_back'].includes(decided.join(',')), JSON.stringify(decided));
    assert.ok(Math.max(...shares) <= 25, `never beyond 25%: ${shares}`);
    assert.equal(state?.status, 'rolled_back');
    t.diagnostic(`rolled back at minute ${decided.length}: ${state?.reasons.join('; ')}`);
    assert.equal(state?.percent, 0);
    assert.match(
      state?.reasons.join('; ') ?? '',
      /rejection rate [\d.]+% on the rollout arm, 0\.00% on the stable one \(more than 1\.00% worse\)/,
    );
    assert.equal(shares.at(-1), 0, 'every call back on the stable arm');
    const metric = await register.getSingleMetric('rollout_decisions_total')?.get();
    assert.ok(metric?.values.some((v) => v.labels.service === 'orders' && v.labels.decision === 'rolled_back'));
  });

  it('promotes a good arm step by step to 100% (a retry on the rollout arm makes it better)', async () => {
    const { judgments, shares, state } = await traffic({ retry: { maxAttempts: 3, baseDelay: 0.001 } }, 5);
    const decided = judgments.filter((j) => j.decision !== 'waited').map((j) => `${j.decision} ${j.state.percent}`);
    assert.deepEqual(decided, ['advanced 25', 'advanced 50', 'promoted 100']);
    assert.equal(state?.status, 'promoted');
    assert.deepEqual(shares, [25, 50, 100, 100, 100]);
  });

  it("'hold' keeps the share and stops moving", async () => {
    const { state } = await traffic({ circuit: { failureThreshold: 1, timeout: 10 }, onFailure: 'hold' }, 2);
    assert.equal(state?.status, 'held');
    assert.equal(state?.percent, 5);
  });
});
