import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ResilienceConfigError, ResilienceModule, Resilient, RetryService } from '../../lib/index.js';
import { ExtraAttemptBudgets, Hedge } from '../../lib/nest/index.js';

const config = {
  metrics: { enabled: false as const },
  services: {
    prices: { retry: { maxAttempts: 3, budget: { ratio: 0.2, minPerSecond: 5 } }, rate: { enabled: false } },
  },
};

describe("a service's one budget of extra attempts", () => {
  it("a hedge with no budget of its own shares the retry's { ratio } budget", async () => {
    @Injectable()
    class Prices {
      @Resilient('prices')
      @Hedge({ delay: '50ms' })
      async quote(): Promise<number> {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot(config)],
      providers: [Prices],
    }).compile();
    await moduleRef.init();
    try {
      assert.equal(await moduleRef.get(Prices).quote(), 1);
      const budget = moduleRef.get(ExtraAttemptBudgets).all().get('prices');
      assert.ok(budget, 'the hedge made the service budget');
      assert.deepEqual([budget.ratio, budget.minPerSecond], [0.2, 5], "the retry's numbers");
      const policy = moduleRef.get(RetryService).policy('prices', { service: 'prices' });
      assert.equal(policy.sharedBudget, budget, 'the retry draws from the same budget');
    } finally {
      await moduleRef.close();
    }
  });

  it('a hedge that asks for other numbers than the retry is a bootstrap error naming both', async () => {
    @Injectable()
    class Prices {
      @Resilient('prices')
      @Hedge({ delay: '50ms', budget: { ratio: 0.5 } })
      async quote(): Promise<number> {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot(config)],
      providers: [Prices],
    }).compile();
    await assert.rejects(
      moduleRef.init(),
      (e) => e instanceof ResilienceConfigError && /ratio 0\.5.*shares one budget of ratio 0\.2/s.test(e.message),
    );
    await moduleRef.close();
  });
});
