import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { ExtraAttemptBudget } from '../../lib/core/budget/extra-attempt-budget.js';
import { ManualClock } from '../../lib/core/clock.js';
import { ExtraAttemptBudgets, ResilienceConfigError, ResilienceModule, Resilient } from '../../lib/index.js';
import { RedisBudgetStore } from '../../lib/redis/budget-store.js';
import { testRedisUrl } from '../support/redis.js';

/** Takes extra attempts until the budget refuses; how many it gave. */
function drain(budget: ExtraAttemptBudget): number {
  let taken = 0;
  while (budget.tryAcquire()) taken++;
  return taken;
}

describe('an extra-attempt budget shared by a fleet (real redis-server)', () => {
  it("bounds the fleet: 10% of the fleet's calls, whichever replica spends it", async () => {
    const redis = new Redis(testRedisUrl());
    try {
      const clock = new ManualClock(1_000_000);
      const service = `payments-${process.pid}-${Date.now()}`;
      const budgets = [0, 1].map(() => new ExtraAttemptBudget({ ratio: 0.1, minPerSecond: 0, clock }));
      const [a, b] = budgets as [ExtraAttemptBudget, ExtraAttemptBudget];
      const stores = [0, 1].map(() => new RedisBudgetStore(redis, service, 'budget-test'));
      const sync = async () => {
        for (const [i, budget] of budgets.entries()) {
          const others = await (stores[i] as RedisBudgetStore).exchange(
            `replica-${i}`,
            budget.ownWindow(),
            clock.now(),
          );
          budget.setOthers(others.calls, others.extras);
        }
      };
      // All 100 calls reach replica a; alone, b has nothing to retry with.
      for (let i = 0; i < 100; i++) a.recordCall();
      assert.equal(drain(new ExtraAttemptBudget({ ratio: 0.1, minPerSecond: 0, clock })), 0);
      await sync();
      for (let i = 0; i < 6; i++) assert.equal(a.tryAcquire(), true);
      await sync();
      assert.equal(drain(b), 4, "b spends what is left of the fleet's 10");
      // A replica hears of the others' spending at its next sync after theirs (every second in an
      // app): two rounds here, so a hears of b's 4.
      await sync();
      await sync();
      assert.equal(drain(a), 0, 'and a sees it spent');
      assert.equal(a.spent + b.spent, 10);
    } finally {
      redis.disconnect();
    }
  });

  it('leaves out a replica that stopped telling (its window is older than staleMs)', async () => {
    const redis = new Redis(testRedisUrl());
    try {
      const store = new RedisBudgetStore(redis, `stale-${process.pid}-${Date.now()}`, 'budget-test', 5000);
      await store.exchange('gone', { calls: 500, extras: 50 }, 1_000_000);
      assert.deepEqual(await store.exchange('here', { calls: 1, extras: 0 }, 1_004_000), { calls: 500, extras: 50 });
      assert.deepEqual(await store.exchange('here', { calls: 1, extras: 0 }, 1_006_000), { calls: 0, extras: 0 });
    } finally {
      redis.disconnect();
    }
  });
});

@Injectable()
class Payments {
  @Resilient('payments')
  async charge(): Promise<string> {
    return 'charged';
  }
}

describe("budget.scope: 'shared' in a Nest app", () => {
  const boot = (redis: boolean) =>
    Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          ...(redis ? { redis: { url: testRedisUrl(), keyPrefix: `shared-budget-${process.pid}` } } : {}),
          services: {
            payments: {
              retry: { maxAttempts: 3, budget: { ratio: 0.2, minPerSecond: 1, scope: 'shared' as const } },
              rate: { enabled: false },
            },
          },
        }),
      ],
      providers: [Payments],
    }).compile();

  it('needs Redis: without it the error names the setting', async () => {
    await assert.rejects(
      boot(false).then((moduleRef) => moduleRef.init()),
      (e) =>
        e instanceof ResilienceConfigError && /budget\.scope: is 'shared' but no redis is configured/.test(e.message),
    );
  });

  it("with Redis, two apps share one budget: one sees the other's calls", async () => {
    const [one, two] = await Promise.all([boot(true), boot(true)]);
    await Promise.all([one.init(), two.init()]);
    try {
      for (let i = 0; i < 50; i++) await one.get(Payments).charge();
      await two.get(Payments).charge();
      const budgetOf = (moduleRef: typeof one) => moduleRef.get(ExtraAttemptBudgets).all().get('payments');
      // Each writes its window and reads the other's every second.
      const deadline = Date.now() + 5000;
      while ((budgetOf(two)?.ownWindow().calls ?? 0) < 1 || !(await sharedSeen(budgetOf(two)))) {
        if (Date.now() > deadline) throw new Error('the budgets never met');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

/** True once `budget` counts the other app's 50 calls. */
async function sharedSeen(budget: ExtraAttemptBudget | undefined): Promise<boolean> {
  return (budget?.othersWindow().calls ?? 0) >= 50;
}
