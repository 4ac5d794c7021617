import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Controller, Get, Module } from '@nestjs/common';
import { register } from 'prom-client';
import {
  createRedisClient,
  DeadLetter,
  ManualClock,
  RateLimit,
  RESILIENCE_CLOCK,
  ResilienceModule,
} from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';
import { RedisServer } from '../support/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'dlq-own-redis-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Answers the statuses of `count` concurrent calls and the slowest call's time. */
async function burst(url: string, count: number): Promise<{ statuses: number[]; slowest: number }> {
  const timed = await Promise.all(
    Array.from({ length: count }, async () => {
      const start = performance.now();
      const response = await fetch(url);
      await response.arrayBuffer();
      return { status: response.status, took: performance.now() - start };
    }),
  );
  return { statuses: timed.map((t) => t.status), slowest: Math.max(...timed.map((t) => t.took)) };
}

/** The dlq_spooled gauge of the orders queue, as a scrape reads it. */
async function spooled(): Promise<number | undefined> {
  const metric = await register.getSingleMetric('dlq_spooled')?.get();
  return metric?.values.find((v) => v.labels.queue === 'orders')?.value;
}

/** dlq_spool_drained_total of the orders queue. */
async function drained(): Promise<number | undefined> {
  const metric = await register.getSingleMetric('dlq_spool_drained_total')?.get();
  return metric?.values.find((v) => v.labels.queue === 'orders')?.value;
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

for (const platform of PLATFORMS) {
  describe(`a queue with its own storageConfig.redisUrl, killed under load (${platform})`, () => {
    it('the rate-limited route keeps admitting its rate, answers fast, and every letter reaches Redis', async () => {
      const server = await RedisServer.start();
      const clock = new ManualClock();

      @Controller()
      class OrdersController {
        @Get('orders')
        @RateLimit({ name: 'orders', rate: 20, per: 60, burst: 0 })
        @DeadLetter('orders', {
          rethrow: false,
          storageBackend: 'redis',
          storageConfig: { redisUrl: server.url, keyPrefix: 'own', spool: { path: join(dir, platform) } },
        })
        place() {
          throw Object.assign(new Error('warehouse refused'), { code: 'ECONNREFUSED' });
        }
      }
      @Module({ imports: [ResilienceModule.forRoot({})], controllers: [OrdersController] })
      class AppModule {}

      const printed: string[] = [];
      const consoleError = console.error;
      console.error = (...args: unknown[]) => printed.push(args.map(String).join(' '));
      const { app, url } = await startHttpApp(AppModule, platform, (builder) =>
        builder.overrideProvider(RESILIENCE_CLOCK).useValue(clock),
      );
      try {
        const before = await burst(`${url}/orders`, 5);
        assert.equal(count(before.statuses, 200), 5);
        // A letter made while the queue's client was still connecting waits in the spool
        // until the client is ready: wait until all five are in Redis.
        const early = await createRedisClient({ url: server.url });
        const deadline = Date.now() + 5000;
        while ((await early.zcard('{own:orders}:ids')) < 5 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(await early.zcard('{own:orders}:ids'), 5);
        early.disconnect();
        await server.kill();
        // Two windows of the limiter during the outage: each admits exactly its 20.
        const windows = [];
        for (let window = 0; window < 2; window++) {
          if (window > 0) clock.advance(60_000);
          windows.push(await burst(`${url}/orders`, 40));
        }
        assert.deepEqual(
          windows.map((w) => [count(w.statuses, 200), count(w.statuses, 429)]),
          [
            [15, 25],
            [20, 20],
          ],
        );
        for (const w of windows) assert.ok(w.slowest < 1000, `the slowest call took ${w.slowest.toFixed(0)} ms`);
        assert.deepEqual(
          printed.filter((line) => /Unhandled error event/.test(line)),
          [],
        );
        // Letters whose add was in flight when Redis died are spooled once it is clear Redis is
        // gone (their outcome unknown, they wait up to 500 ms for a reconnection first).
        const spooledBy = Date.now() + 3000;
        while ((await spooled()) !== 35 && Date.now() < spooledBy) await new Promise((r) => setTimeout(r, 20));
        assert.equal(await spooled(), 35, 'dlq_spooled counts the letters waiting for Redis');
        const drainedBefore = (await drained()) ?? 0;
        await server.restart();
        const inspector = await createRedisClient({ url: server.url });
        try {
          const deadline = Date.now() + 10_000;
          while ((await inspector.zcard('{own:orders}:ids')) < 35 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
          }
          // Redis restarted empty: the 35 letters of the outage came from the spool.
          assert.equal(await inspector.zcard('{own:orders}:ids'), 35);
          // The last letter is in Redis a moment before the spool lets it go.
          while ((await spooled()) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          assert.equal(await spooled(), 0);
          assert.equal(await drained(), drainedBefore + 35, 'dlq_spool_drained_total counts the letters drained');
        } finally {
          inspector.disconnect();
        }
      } finally {
        console.error = consoleError;
        await app.close();
        await server.stop();
      }
    });
  });
}
