import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import {
  CircuitBreaker,
  CircuitOpenError,
  DeadLetter,
  DeadLetterService,
  deserializeValue,
  ResilienceConfigError,
  ResilienceHealthIndicator,
  ResilienceModule,
  Resilient,
  Retry,
} from '../../lib/index.js';
import { fakeTime } from '../support/nest-timing.js';

const refused = () => Object.assign(new Error('gateway refused'), { code: 'ECONNREFUSED' });
const dir = mkdtempSync(join(tmpdir(), 'dlq-nest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

@Injectable()
class Orders {
  down = true;
  calls = 0;

  @DeadLetter('orders')
  @Retry({ maxAttempts: 3, jitter: false })
  async place(order: { id: number; total: bigint }): Promise<string> {
    this.calls++;
    if (this.down) throw refused();
    return `placed ${order.id}`;
  }

  @DeadLetter('analytics', { rethrow: false })
  async track(event: string): Promise<void> {
    throw new Error(`analytics down for ${event}`);
  }

  // Throws what a breaker further down throws: this method's own breaker stays closed.
  @DeadLetter('relayed')
  @CircuitBreaker('relay-breaker')
  async relay(): Promise<never> {
    throw CircuitOpenError.stackless('inventory', 5);
  }

  @DeadLetter('answered')
  @Retry({ maxAttempts: 2, baseDelay: 0.001, jitter: false })
  @CircuitBreaker('answering-breaker', { failureThreshold: 1, fallback: () => 'cached' })
  async quote(): Promise<string> {
    throw refused();
  }

  @Resilient('payment_gateway')
  async charge(amount: number): Promise<string> {
    this.calls++;
    if (this.down) throw refused();
    return `charged ${amount}`;
  }
}

const CONFIG = {
  services: { payment_gateway: { tier: 'critical', retry: { jitter: false } } },
  // Defaults sit under each service's tier; a queue's own entry goes on top.
  deadLetter: {
    storageBackend: 'file' as const,
    storageConfig: { filePath: dir },
    queues: { orders: { alertThreshold: 3 } },
  },
  metrics: { enabled: true },
};

@Module({ imports: [ResilienceModule.forRoot(CONFIG)], providers: [Orders] })
class AppModule {}

async function start() {
  register.clear();
  const builder = Test.createTestingModule({ imports: [AppModule] });
  const time = fakeTime(builder);
  const moduleRef = await builder.compile();
  await moduleRef.init();
  return { moduleRef, orders: moduleRef.get(Orders), dlq: moduleRef.get(DeadLetterService), ...time };
}

/** Runs `test` on a fresh app and always closes it (the file backend's lock must be released). */
async function withApp(test: (app: Awaited<ReturnType<typeof start>>) => Promise<void>): Promise<void> {
  const app = await start();
  try {
    await test(app);
  } finally {
    await app.moduleRef.close();
  }
}

describe('dead letters through a Nest app (file backend)', () => {
  it('dead-letters a failed call once, after its retries, with the arguments and every attempt', () =>
    withApp(async ({ orders, dlq }) => {
      await dlq.queue('orders').purge();
      const error = await orders.place({ id: 7, total: 12_345n }).catch((e) => e);
      assert.equal(error.code, 'ECONNREFUSED', 'the error is rethrown unchanged');
      assert.equal(orders.calls, 3);
      const { items } = await dlq.queue('orders').list();
      assert.equal(items.length, 1, 'once per call, never once per attempt');
      const [letter] = items;
      assert.deepEqual(deserializeValue(letter.args), [{ id: 7, total: 12_345n }]);
      assert.equal(letter.attempts, 3);
      assert.deepEqual(
        letter.history.map((h) => h.attempt),
        [1, 2, 3],
      );
      assert.deepEqual(letter.source, { service: 'Orders', className: 'Orders', method: 'place' });
      assert.equal(letter.error.code, 'ECONNREFUSED');
      assert.equal(letter.reason, 'failed');
    }));

  it('swallows the error with rethrow: false (fire-and-forget)', () =>
    withApp(async ({ orders, dlq }) => {
      await dlq.queue('analytics').purge();
      assert.equal(await orders.track('signup'), undefined);
      assert.equal(await dlq.queue('analytics').size(), 1);
    }));

  it('labels a letter from the stage that turned the call away, never from the error: a CircuitOpenError of a breaker further down is a failure', () =>
    withApp(async ({ orders, dlq }) => {
      const queue = dlq.queue('relayed');
      await queue.purge();
      await assert.rejects(orders.relay(), CircuitOpenError);
      const [letter] = (await queue.list()).items;
      assert.deepEqual([letter.reason, letter.attempts], ['failed', 1]);
    }));

  it("keeps no letter for a call the breaker's fallback answered, with retries inside it", () =>
    withApp(async ({ orders, dlq }) => {
      const queue = dlq.queue('answered');
      await queue.purge();
      assert.equal(await orders.quote(), 'cached');
      assert.equal(await orders.quote(), 'cached', 'open now: the fallback answers the rejection too');
      assert.equal(await queue.size(), 0);
    }));

  it("@Resilient keeps the calls an open breaker turned away, as 'circuit_open'", () =>
    withApp(async ({ orders, dlq }) => {
      const queue = dlq.queue('payment_gateway');
      await queue.purge();
      for (let i = 0; i < 3; i++) await orders.charge(100 + i).catch(() => {});
      assert.equal(orders.calls, 10, 'critical: 5 attempts per call, the breaker opens after 2 failed calls');
      const { items } = await queue.list();
      assert.deepEqual(
        items.map((l) => [l.reason, l.attempts]),
        [
          ['failed', 5],
          ['failed', 5],
          ['circuit_open', 0],
        ],
      );
      assert.deepEqual(deserializeValue(items[2].args), [102]);
    }));

  it('replays through the method: success removes, failures count, then the letter is kept exhausted', () =>
    withApp(async ({ orders, dlq }) => {
      const queue = dlq.queue('orders');
      await queue.purge();
      await orders.place({ id: 1, total: 1n }).catch(() => {});
      await orders.place({ id: 2, total: 2n }).catch(() => {});
      orders.down = false;
      orders.calls = 0;
      const report = await dlq.replay('orders', { sleep: async () => {} });
      assert.deepEqual(report, { replayed: 2, succeeded: 2, failed: 0, exhausted: 0 });
      assert.equal(orders.calls, 2);
      assert.equal(await queue.size(), 0);
      orders.down = true;
      await orders.place({ id: 3, total: 3n }).catch(() => {});
      for (let i = 0; i < 3; i++) await dlq.replay('orders', { sleep: async () => {} });
      const [kept] = (await queue.list()).items;
      assert.equal(kept.status, 'exhausted', 'maxRetryAttempts (3) replays failed');
      assert.equal(kept.replays, 3);
    }));

  it("exports the guide's DLQ metrics and turns health down at the alert threshold", () =>
    withApp(async ({ moduleRef, orders, dlq, clock }) => {
      await dlq.queue('orders').purge();
      await orders.place({ id: 1, total: 1n }).catch(() => {});
      clock.advance(90_000);
      await orders.place({ id: 2, total: 1n }).catch(() => {});
      let text = await register.metrics();
      assert.match(text, /dlq_size\{queue="orders"\} 2/);
      // 90 s between the two calls, plus the first call's own retry waits (1 s and 2 s).
      assert.match(text, /dlq_oldest_message_age_seconds\{queue="orders"\} 93\n/);
      assert.match(text, /dlq_added_total\{queue="orders"\} 2/);
      const health = moduleRef.get(ResilienceHealthIndicator);
      assert.equal((await health.isHealthy()).resilience.queues.orders.status, 'up');
      await orders.place({ id: 3, total: 1n }).catch(() => {});
      const result = (await health.isHealthy()).resilience;
      assert.equal(result.queues.orders.status, 'down');
      assert.equal(result.status, 'down');
      text = await register.metrics();
      assert.match(text, /dlq_size\{queue="orders"\} 3/);
    }));

  it('keeps letters across a restart (file backend)', async () => {
    await withApp(async ({ dlq, orders }) => {
      await dlq.queue('orders').purge();
      await orders.place({ id: 9, total: 9n }).catch(() => {});
    });
    await withApp(async ({ dlq }) => {
      assert.equal(await dlq.queue('orders').size(), 1);
    });
  });
});

describe('dead-letter configuration errors', () => {
  it("refuses encryption: true without a key, and 'redis' without Redis, at bootstrap", async () => {
    @Injectable()
    class Payments {
      @DeadLetter('payments', { preset: 'payments', storageBackend: 'memory' })
      pay() {
        throw new Error('x');
      }
    }
    const encrypted = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot()],
      providers: [Payments],
    }).compile();
    await assert.rejects(
      encrypted.init(),
      (e: unknown) => e instanceof ResilienceConfigError && /encryption: is true but no key is set/.test(e.message),
    );
    @Injectable()
    class Orders2 {
      @DeadLetter('orders2', { storageBackend: 'redis' })
      place() {
        throw new Error('x');
      }
    }
    const withoutRedis = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot()],
      providers: [Orders2],
    }).compile();
    await assert.rejects(withoutRedis.init(), /storageBackend: is 'redis' but no Redis is configured/);
  });
});

describe("a queue's own Redis URL (the guide's storage_config.redis_url)", () => {
  it('stores letters in that Redis, under its key prefix, and closes its client on shutdown', async () => {
    const { testRedisUrl } = await import('../support/redis.js');
    const { createRedisClient } = await import('../../lib/index.js');
    @Injectable()
    class Jobs {
      @DeadLetter('jobs', {
        storageBackend: 'redis',
        storageConfig: { redisUrl: testRedisUrl(), keyPrefix: 'own_url' },
      })
      run(job: string) {
        throw new Error(`job ${job} failed`);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Jobs],
    }).compile();
    await moduleRef.init();
    const inspector = await createRedisClient({ url: testRedisUrl() });
    try {
      await inspector.del('{own_url:jobs}:letters', '{own_url:jobs}:ids');
      await assert.rejects(Promise.resolve(moduleRef.get(Jobs).run('nightly')), /job nightly failed/);
      // The queue's own client fails fast while it connects: a letter made meanwhile is
      // spooled locally and drains into Redis when the client is ready.
      const deadline = Date.now() + 3000;
      while ((await inspector.zcard('{own_url:jobs}:ids')) === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await inspector.zcard('{own_url:jobs}:ids'), 1);
    } finally {
      inspector.disconnect();
      await moduleRef.close();
    }
  });
});
