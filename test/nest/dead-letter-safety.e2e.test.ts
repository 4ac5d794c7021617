import 'reflect-metadata';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  createRedisClient,
  DeadLetter,
  DeadLetterService,
  ResilienceConfigError,
  ResilienceModule,
  Retry,
  UnknownDeadLetterQueueError,
} from '../../lib/index.js';
import { testRedisUrl } from '../support/redis.js';
import { RedisServer } from '../support/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'dlq-safety-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('dead-letter queue names from requests', () => {
  it('after bootstrap, an unknown name creates no queue, no file and no series; a bad name is refused', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          deadLetter: {
            storageBackend: 'file',
            storageConfig: { filePath: join(dir, 'names') },
            queues: { orders: {} },
          },
        }),
      ],
    }).compile();
    await moduleRef.init();
    try {
      const dlq = moduleRef.get(DeadLetterService);
      assert.ok(dlq.queue('orders'), 'a configured queue');
      assert.throws(() => dlq.queue('user-supplied-1'), UnknownDeadLetterQueueError);
      assert.equal(dlq.find('user-supplied-2'), undefined);
      for (const bad of ['../../../x', '..', 'a/b', '', 'x'.repeat(200), '..%2F..%2Fx']) {
        assert.throws(() => dlq.queue(bad), ResilienceConfigError, bad);
        assert.equal(dlq.find(bad), undefined);
      }
      assert.equal(existsSync(join(dir, 'x')), false, 'nothing was created outside the data folder');
      assert.equal(existsSync(join(dir, 'x.lock')), false);
      assert.deepEqual([...dlq.all().keys()], ['orders']);
      await assert.rejects(dlq.replay('nope'), UnknownDeadLetterQueueError);
    } finally {
      await moduleRef.close();
    }
  });
});

describe("a queue's Redis keys are under the app's prefix", () => {
  it("the production preset's own prefix goes under redis.keyPrefix, so two apps never share a queue", async () => {
    const inspector = await createRedisClient({ url: testRedisUrl() });
    const apps = [];
    try {
      for (const keyPrefix of ['app_a', 'app_b']) {
        @Injectable()
        class Orders {
          @DeadLetter('orders')
          place() {
            throw new Error(`failed in ${keyPrefix}`);
          }
        }
        const moduleRef = await Test.createTestingModule({
          imports: [
            ResilienceModule.forRoot({
              environment: 'production',
              metrics: { enabled: false },
              redis: { url: testRedisUrl(), keyPrefix },
            }),
          ],
          providers: [Orders],
        }).compile();
        await moduleRef.init();
        apps.push(moduleRef);
        await inspector.del(`{${keyPrefix}:prod_dlq:orders}:ids`, `{${keyPrefix}:prod_dlq:orders}:letters`);
        await assert.rejects(Promise.resolve(moduleRef.get(Orders).place()));
      }
      assert.equal(await inspector.zcard('{app_a:prod_dlq:orders}:ids'), 1);
      assert.equal(await inspector.zcard('{app_b:prod_dlq:orders}:ids'), 1);
      assert.equal(await inspector.exists('{prod_dlq:orders}:ids'), 0, 'nothing under the shared preset prefix');
      const a = apps[0].get(DeadLetterService).queue('orders');
      assert.equal(await a.size(), 1, 'app A sees only its own letter');
      assert.match((await a.list()).items[0].error.message, /app_a/);
    } finally {
      for (const app of apps) await app.close();
      inspector.disconnect();
    }
  });
});

describe('letters made while Redis is down', () => {
  it('kill -9 of redis-server under load: every acknowledged letter is in Redis after it returns', async () => {
    const server = await RedisServer.start();
    @Injectable()
    class Payments {
      @DeadLetter('payments', { rethrow: false })
      @Retry({ maxAttempts: 2, baseDelay: 0.001, jitter: false })
      async charge(n: number): Promise<void> {
        throw Object.assign(new Error(`charge ${n} refused`), { code: 'ECONNREFUSED' });
      }
    }
    const warnings: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          redis: { url: server.url, keyPrefix: 'spool' },
          deadLetter: {
            storageBackend: 'redis',
            storageConfig: { spool: { path: join(dir, 'spool') } },
          },
        }),
      ],
      providers: [Payments],
    }).compile();
    moduleRef.useLogger({
      log: () => {},
      error: (m: unknown) => warnings.push(String(m)),
      warn: (m: unknown) => warnings.push(String(m)),
    });
    await moduleRef.init();
    const payments = moduleRef.get(Payments);
    const inspector = await createRedisClient({ url: server.url });
    try {
      let acknowledged = 0;
      const load = async (from: number, count: number) => {
        const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => payments.charge(from + i)));
        for (const r of results) if (r.status === 'fulfilled') acknowledged++;
        return results.filter((r) => r.status === 'rejected').length;
      };
      assert.equal(await load(0, 100), 0);
      inspector.disconnect();
      await server.kill();
      let refusedDuringOutage = 0;
      for (let round = 0; round < 10; round++) refusedDuringOutage += await load(1000 + round * 100, 100);
      assert.equal(refusedDuringOutage, 0, 'with rethrow: false every call was answered (its letter was kept)');
      assert.equal(acknowledged, 1100);
      assert.ok(
        warnings.some((w) => /spooled locally/.test(w)),
        warnings.join('\n'),
      );
      assert.ok(warnings.length < 20, `${warnings.length} warning lines for 1,000 letters`);
      await server.restart();
      const check = await createRedisClient({ url: server.url });
      try {
        const deadline = Date.now() + 10_000;
        while ((await check.zcard('{spool:dlq:payments}:ids')) < 1000 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        // Redis restarted empty (no persistence): the 1,000 letters of the outage came from the spool.
        assert.equal(await check.zcard('{spool:dlq:payments}:ids'), 1000);
      } finally {
        check.disconnect();
      }
    } finally {
      await moduleRef.close();
      await server.stop();
    }
  });
});
