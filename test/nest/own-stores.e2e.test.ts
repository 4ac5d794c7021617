import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DeadLetter,
  type DeadLetterRecord,
  DeadLetterService,
  MemoryDeadLetterBackend,
  MemoryRateLimitStore,
  RateLimit,
  type RateLimitRule,
  type RateLimitStore,
  ResilienceModule,
} from '../../lib/index.js';

/** A store of the user's own: here it delegates to memory and records what it was asked. */
class RecordingStore implements RateLimitStore {
  readonly keys: string[] = [];
  private readonly inner = new MemoryRateLimitStore();
  consume(rules: readonly RateLimitRule[], key: string, cost: number) {
    this.keys.push(key);
    return this.inner.consume(rules, key, cost);
  }
  peek(rules: readonly RateLimitRule[], key: string, cost: number) {
    return this.inner.peek(rules, key, cost);
  }
  reset(rules: readonly RateLimitRule[], key: string) {
    return this.inner.reset(rules, key);
  }
}

class RecordingBackend extends MemoryDeadLetterBackend {
  readonly added: DeadLetterRecord[] = [];
  override add(letter: DeadLetterRecord) {
    this.added.push(letter);
    return super.add(letter);
  }
}

@Injectable()
class Jobs {
  @RateLimit({ name: 'jobs', rate: 1, per: 60, key: 'global' })
  async run(): Promise<string> {
    return 'ran';
  }

  @DeadLetter('orders', { rethrow: false })
  async order(): Promise<void> {
    throw new Error('order failed');
  }

  @DeadLetter('audit', { rethrow: false })
  async audit(): Promise<void> {
    throw new Error('audit failed');
  }
}

describe('stores and backends of your own (forRoot options)', () => {
  it('rateLimitStore decides every limiter; deadLetterBackend serves the queues it returns a backend for', async () => {
    const store = new RecordingStore();
    const orders = new RecordingBackend();
    const asked: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          rateLimitStore: store,
          deadLetterBackend: (queue, settings) => {
            asked.push(`${queue}:${settings.storageBackend}`);
            return queue === 'orders' ? orders : undefined;
          },
        }),
      ],
      providers: [Jobs],
    }).compile();
    await moduleRef.init();
    try {
      const jobs = moduleRef.get(Jobs);
      assert.equal(await jobs.run(), 'ran');
      await assert.rejects(jobs.run(), /Rate limit "jobs" exceeded/);
      assert.deepEqual(store.keys, ['global', 'global'], 'both decisions went to the store');

      await jobs.order();
      await jobs.audit();
      assert.equal(orders.added.length, 1, 'the orders letter is in the backend of our own');
      assert.equal(orders.added[0].source.method, 'order');
      const deadLetters = moduleRef.get(DeadLetterService);
      assert.equal(deadLetters.queue('orders').backend, orders);
      assert.equal(await deadLetters.queue('audit').size(), 1, 'audit: the built-in backend its settings name');
      assert.notEqual(deadLetters.queue('audit').backend, orders);
      assert.ok(asked.includes('orders:memory') && asked.includes('audit:memory'));
    } finally {
      await moduleRef.close();
    }
  });
});
