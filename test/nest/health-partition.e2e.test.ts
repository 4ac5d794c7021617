import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import {
  CircuitBreakerService,
  DeadLetterService,
  ResilienceHealthIndicator,
  ResilienceModule,
} from '../../lib/index.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { testRedisUrl } from '../support/redis.js';

describe('health through a network partition (a proxy that swallows every byte, the connection still open)', () => {
  it('answers within 1.5 s and says Redis is unreachable, though the client still reads "ready"', async (t) => {
    const proxy = await FaultProxy.start(Number(new URL(testRedisUrl()).port));
    const dir = mkdtempSync(join(tmpdir(), 'nest-resilience-health-'));
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          redis: { url: proxy.url, keyPrefix: `health-${process.pid}` },
          services: { ledger: { circuit: { scope: 'shared' } } },
          deadLetter: {
            storageBackend: 'redis',
            storageConfig: { spool: { path: join(dir, 'spool') } },
            queues: { ledger: {}, refunds: {}, audits: {} },
          },
        }),
      ],
    })
      .setLogger({ log: () => {}, error: () => {}, warn: () => {} })
      .compile();
    await moduleRef.init();
    try {
      const health = moduleRef.get(ResilienceHealthIndicator);
      moduleRef.get(CircuitBreakerService).get('ledger');
      for (const queue of ['ledger', 'refunds', 'audits']) moduleRef.get(DeadLetterService).queue(queue);
      const healthy = await health.isHealthy();
      assert.equal(healthy.resilience.redis?.status, 'up');
      proxy.partition();
      const started = performance.now();
      const cut = await health.isHealthy();
      const took = performance.now() - started;
      t.diagnostic(`health answered in ${took.toFixed(0)} ms: redis ${JSON.stringify(cut.resilience.redis)}`);
      assert.ok(took < 1500, `health took ${took.toFixed(0)} ms`);
      assert.equal(cut.resilience.redis?.status, 'down', 'letters could not reach Redis');
      assert.equal(cut.resilience.redis?.connection, 'unreachable');
      proxy.heal();
      const back = await health.isHealthy();
      assert.equal(back.resilience.redis?.status, 'up');
    } finally {
      await moduleRef.close();
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
