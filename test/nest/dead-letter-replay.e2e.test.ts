import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  CircuitBreaker,
  CircuitBreakerService,
  DeadLetter,
  DeadLetterService,
  ManualClock,
  RESILIENCE_CLOCK,
  ResilienceModule,
} from '../../lib/index.js';

/** A dependency that refuses connections until it is healed. */
const warehouse = { healthy: false, calls: 0 };

@Injectable()
class Shipping {
  @DeadLetter('shipments', { rethrow: false, maxRetryAttempts: 2 })
  @CircuitBreaker('warehouse', { failureThreshold: 3, timeout: 30 })
  async ship(order: number): Promise<string> {
    warehouse.calls++;
    if (!warehouse.healthy)
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    return `shipped ${order}`;
  }
}

describe('replaying through a real breaker that is still open (Nest path)', () => {
  it('stops at the first refusal, counts no attempt, marks nothing exhausted; replays all once the breaker admits', async () => {
    const clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Shipping],
    })
      .overrideProvider(RESILIENCE_CLOCK)
      .useValue(clock)
      .compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    try {
      const shipping = moduleRef.get(Shipping);
      for (let order = 0; order < 20; order++) await shipping.ship(order);
      assert.equal(moduleRef.get(CircuitBreakerService).get('warehouse').state, 'open');
      assert.equal(warehouse.calls, 3, 'the breaker opened after three failures');
      const dlq = moduleRef.get(DeadLetterService);
      assert.equal(await dlq.queue('shipments').size(), 20);

      // Replays while the breaker is open: each one is refused before it reaches the warehouse.
      for (let round = 0; round < 5; round++) {
        const report = await dlq.replay('shipments', { sleep: async () => {} });
        assert.equal(report.replayed, 0);
        assert.equal(report.stopped?.reason, 'circuit_open');
        assert.ok((report.stopped?.retryAfter ?? 0) > 0);
      }
      assert.equal(warehouse.calls, 3, 'no replay reached the dependency');
      const letters = (await dlq.queue('shipments').list({ limit: 100 })).items;
      assert.ok(
        letters.every((l) => l.replays === 0 && l.status === 'pending'),
        'a refusal is not an attempt',
      );

      // The warehouse heals and the breaker's timeout passes: the replay drains the queue.
      warehouse.healthy = true;
      clock.advance(30_000);
      const report = await dlq.replay('shipments', { sleep: async () => {} });
      assert.equal(report.succeeded, 20, JSON.stringify(report));
      assert.equal(await dlq.queue('shipments').size(), 0);
    } finally {
      await moduleRef.close();
    }
  });
});
