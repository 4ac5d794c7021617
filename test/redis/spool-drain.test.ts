import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  createRedisClient,
  DeadLetterQueue,
  FileDeadLetterBackend,
  RedisDeadLetterBackend,
  SpooledDeadLetterBackend,
} from '../../lib/index.js';
import { RedisServer } from '../support/redis-server.js';

describe('the dead-letter spool drains at the primary’s pace while traffic goes on', () => {
  it('a 10 s Redis outage at 200 letters/s: no letter refused, the spool empty within 5 s of Redis answering', async (t) => {
    const server = await RedisServer.start();
    const dir = mkdtempSync(join(tmpdir(), 'nest-resilience-spool-'));
    const client = await createRedisClient({ url: server.url });
    client.on('error', () => {});
    const spooled = new SpooledDeadLetterBackend({
      primary: new RedisDeadLetterBackend({ client, queue: 'orders', keyPrefix: 'drain' }),
      spool: new FileDeadLetterBackend({ filePath: join(dir, 'spool'), onWarning: () => {} }),
      onWarning: () => {},
    });
    let drainedTotal = 0;
    spooled.onDrained(({ count }) => {
      drainedTotal += count;
    });
    const queue = new DeadLetterQueue({ name: 'orders', backend: spooled });
    let sent = 0;
    const refused: unknown[] = [];
    const adds: Promise<unknown>[] = [];
    // 200 letters a second, from before the outage to after the spool is empty.
    const producer = setInterval(() => {
      const n = sent++;
      adds.push(
        queue
          .add({ args: [{ order: n }], error: new Error(`charge ${n} failed`), source: { service: 'orders' } })
          .catch((error: unknown) => refused.push(error)),
      );
    }, 5);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await server.kill();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const duringOutage = spooled.spoolSize;
      await server.restart();
      const back = performance.now();
      while (spooled.spoolSize > 0 && performance.now() - back < 15_000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const emptyAfter = performance.now() - back;
      clearInterval(producer);
      await Promise.all(adds);
      const inRedis = await client.zcard('{drain:orders}:ids');
      t.diagnostic(
        `${sent} letters sent (200/s); ${duringOutage} spooled by the end of the 10 s outage; the spool was empty ${(emptyAfter / 1000).toFixed(2)} s after redis-server was back; ${drainedTotal} drained; Redis holds ${inRedis}; ${refused.length} refused`,
      );
      assert.deepEqual(refused, []);
      assert.ok(duringOutage >= 1500, `only ${duringOutage} letters were spooled`);
      assert.ok(emptyAfter <= 5_000, `the spool emptied ${emptyAfter.toFixed(0)} ms after Redis was back`);
      // Redis restarted empty (no persistence): it holds what was drained and what came after.
      assert.equal(await spooled.size(), inRedis);
      assert.ok(drainedTotal >= duringOutage);
    } finally {
      clearInterval(producer);
      await spooled.close().catch(() => {});
      client.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
