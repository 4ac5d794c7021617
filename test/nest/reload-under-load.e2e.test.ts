import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import {
  BulkheadService,
  RateLimiterService,
  ResilienceModule,
  ResilienceSettings,
  Resilient,
} from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const state = { running: 0, most: 0 };

@Injectable()
class Catalog {
  /** 5 ms of work; the most calls seen at once is kept. */
  @Resilient('catalog')
  async list(): Promise<string> {
    state.running++;
    state.most = Math.max(state.most, state.running);
    await sleep(5);
    state.running--;
    return 'items';
  }
}

@Controller()
class CatalogController {
  constructor(private readonly catalog: Catalog) {}
  @Get('items')
  items() {
    return this.catalog.list();
  }
}

/** Two valid configurations, alike but for every setting a reload may change. */
const variant = (i: number) => ({
  services: {
    catalog: {
      retry: { maxAttempts: 2 + (i % 2), baseDelay: 0.001 },
      circuit: { failureThreshold: 5 + (i % 2), timeout: 30 },
      bulkhead: { maxConcurrent: 6 + (i % 2) * 2, maxQueue: 100, queueTimeout: 5 },
      rate: { rate: 100_000 + (i % 2), per: 3600, key: 'global' as const },
      dlq: { storageBackend: 'memory' as const, rethrow: true },
    },
  },
});

@Module({
  imports: [ResilienceModule.forRoot({ ...variant(0), metrics: { enabled: false } })],
  controllers: [CatalogController],
  providers: [Catalog],
})
class CatalogModule {}

for (const platform of PLATFORMS) {
  describe(`reloading under load (${platform}, real HTTP)`, () => {
    it('no call fails because of a reload, none runs beyond the bulkhead limit, the limiter keeps its count', async () => {
      const { app, url } = await startHttpApp(CatalogModule, platform);
      try {
        const settings = app.get(ResilienceSettings);
        Object.assign(state, { running: 0, most: 0 });
        const statuses = new Map<number, number>();
        let stop = false;
        // 12 clients, one request after another each: twice the bulkhead's limit, so it queues.
        const clients = Array.from({ length: 12 }, async () => {
          while (!stop) {
            const response = await fetch(`${url}/items`);
            await response.text();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          }
        });
        let applied = 0;
        let amidCalls = 0;
        for (let i = 1; i <= 20; i++) {
          await sleep(25);
          if (state.running > 0) amidCalls++;
          const result = settings.reload({ ...variant(i), metrics: { enabled: false } });
          assert.equal(result.result, 'applied', JSON.stringify(result.issues));
          applied++;
        }
        stop = true;
        await Promise.all(clients);
        const served = statuses.get(200) ?? 0;
        assert.deepEqual([...statuses.keys()], [200], `every answer a 200: ${JSON.stringify([...statuses])}`);
        assert.ok(served > 50, `${served} requests served across ${applied} reloads`);
        assert.ok(amidCalls >= 10, `${amidCalls} of ${applied} reloads happened with calls running`);
        assert.ok(state.most <= 8, `at most the larger limit at once, saw ${state.most}`);
        assert.equal(app.get(BulkheadService).get('catalog').limit, 6 + (20 % 2) * 2);
        const limiter = app.get(RateLimiterService).get('catalog');
        const verdict = await limiter.check('global');
        assert.ok(
          verdict.remaining < limiter.capacity - served / 2,
          `the count survived the reloads: ${verdict.remaining} of ${limiter.capacity} left after ${served} calls`,
        );
      } finally {
        await app.close();
      }
    });
  });
}
