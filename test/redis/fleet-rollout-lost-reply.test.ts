import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ProgressiveRollout } from '../../lib/core/rollout/progressive-rollout.js';
import { createRedisClient } from '../../lib/index.js';
import { FleetRollout } from '../../lib/nest/pipeline/fleet-rollout.js';
import { RedisRolloutStore } from '../../lib/redis/rollout-store.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { testRedisUrl } from '../support/redis.js';

describe("a fleet rollout's counts when Redis's reply is lost after the command ran (a connection reset)", () => {
  it('counts each call once: what Redis added is not sent again', async () => {
    const port = Number(new URL(testRedisUrl()).port);
    const proxy = await FaultProxy.start(port);
    const client = await createRedisClient({ url: proxy.url });
    client.on('error', () => {});
    const direct = new Redis(testRedisUrl());
    const keyPrefix = `lost-reply-${process.pid}-${Date.now()}`;
    try {
      const rollout = new ProgressiveRollout({ steps: [10, 100], analysis: { minCalls: 1000 } });
      const fleet = new FleetRollout(client, keyPrefix, 'orders', 'sig', rollout, 'replica-a', 60_000, {
        minCalls: 1000,
      });
      await fleet.sync(); // the rollout's state exists; nothing counted yet
      for (let i = 0; i < 30; i++) rollout.record('stable', 'success', 1);
      // The batch that adds the counts runs on Redis; its reply is lost and the connection reset.
      proxy.loseReplies(1, () => 0, /hincrby/i);
      await fleet.sync().catch(() => undefined);
      proxy.loseReplies(0);
      for (let i = 0; i < 5; i++) rollout.record('stable', 'success', 1);
      await fleet.sync();
      const counts = await new RedisRolloutStore(direct, `orders:${sigHash('sig')}`, keyPrefix).counts(0);
      assert.ok(proxy.stats.repliesLost >= 1, 'a reply was lost');
      assert.equal(counts.stable.calls, 35, '30 + 5 calls, none counted twice');
    } finally {
      client.disconnect();
      direct.disconnect();
      await proxy.close();
    }
  });
});

/** The store's name for a rollout signature (as FleetRollout makes it). */
function sigHash(signature: string): string {
  return createHash('sha256').update(signature).digest('hex').slice(0, 12);
}
