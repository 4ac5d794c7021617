import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { ManualClock } from '../../lib/core/clock.js';
import {
  createRedisClient,
  DeadLetterQueue,
  type RateLimitRule,
  RedisDeadLetterBackend,
  RedisRateLimitStore,
} from '../../lib/index.js';
import { CircuitFleet } from '../../lib/redis/shared-circuit/circuit-fleet.js';
import { SharedCircuitBreaker } from '../../lib/redis/shared-circuit/shared-breaker.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { seeded } from '../support/overload-simulation.js';
import { RedisServer } from '../support/redis-server.js';

const bucket: RateLimitRule = { name: 'orders', rate: 100_000, windowMs: 60_000, burst: 0, strategy: 'fixed_window' };

/** Resolves once the client is connected. */
async function connected(client: Redis): Promise<void> {
  while (client.status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('exactly-once effects when Redis replies are lost (a proxy resets replies after the command ran)', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let direct: Redis;
  before(async () => {
    server = await RedisServer.start();
    proxy = await FaultProxy.start(server.port);
    direct = await createRedisClient({ url: server.url });
  });
  /** A client through the proxy, as the module makes them (errors are the test's to see, not printed). */
  const viaProxy = async () => {
    const client = await createRedisClient({ url: proxy.url });
    client.on('error', () => {});
    return client;
  };
  after(async () => {
    direct.disconnect();
    await proxy.close();
    await server.stop();
  });

  it('rate limiter: Redis counts exactly the decisions its answers admitted (10% of replies lost)', async (t) => {
    const client = await viaProxy();
    const store = new RedisRateLimitStore({ client, keyPrefix: 'once', failureMode: 'closed' });
    try {
      proxy.loseReplies(0.1, seeded(3));
      let admitted = 0;
      for (let round = 0; round < 20; round++) {
        const verdicts = await Promise.all(Array.from({ length: 50 }, () => store.consume([bucket], 'shop', 1)));
        admitted += verdicts.filter(([v]) => v.allowed).length;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      proxy.loseReplies(0);
      const state = await direct.get(store.redisKey(bucket, 'shop'));
      const counted = Number(String(state).split('|')[1]);
      t.diagnostic(`${proxy.stats.repliesLost} replies lost; admitted ${admitted} of 1000, Redis counted ${counted}`);
      assert.ok(proxy.stats.repliesLost > 0);
      assert.equal(counted, admitted);
    } finally {
      client.disconnect();
    }
  });

  it('shared circuit breaker: the fleet counts each failure once (one caller opened it after 4 real failures of 5 before)', async (t) => {
    const client = await viaProxy();
    const clock = new ManualClock(1_000_000);
    const fleet = new CircuitFleet({ client, keyPrefix: 'once-circuit', serverClock: clock });
    const breaker = new SharedCircuitBreaker('ledger', { failureThreshold: 1000, clock, fleet });
    try {
      await breaker.refresh();
      const lostBefore = proxy.stats.repliesLost;
      // Replies to the script are lost, not the reconnection's handshake; each failure waits for the
      // connection a lost reply reset (a call that finds Redis unreachable is the breaker's to count alone).
      proxy.loseReplies(0.2, seeded(5), /evalsha|eval/i);
      const failures = 30;
      for (let i = 0; i < failures; i++) {
        await connected(client);
        await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
        assert.equal(breaker.sharing, true, `failure ${i} was counted alone`);
      }
      await breaker.settled();
      proxy.loseReplies(0);
      const fseq = Number(await direct.hget('{once-circuit:circuit:ledger}', 'fseq'));
      t.diagnostic(
        `${proxy.stats.repliesLost - lostBefore} replies lost; ${failures} failures, the fleet counted ${fseq}`,
      );
      assert.ok(proxy.stats.repliesLost > lostBefore);
      assert.equal(fseq, failures);
    } finally {
      breaker.dispose();
      fleet.close();
      client.disconnect();
    }
  });

  it('a lost reply is sent again once the client reconnects, not after the command timeout', async (t) => {
    // A 5 s command timeout: ioredis drops the commands in flight on a closed connection
    // without failing them, so before, a lost reply cost the whole timeout.
    const client = await createRedisClient({ url: proxy.url, commandTimeout: 5 });
    client.on('error', () => {});
    const queue = new DeadLetterQueue({
      name: 'once-fast',
      backend: new RedisDeadLetterBackend({ client, queue: 'once-fast', keyPrefix: 'once' }),
    });
    try {
      const lostBefore = proxy.stats.repliesLost;
      let draws = 0;
      proxy.loseReplies(1, () => (draws++ === 0 ? 0 : 1), /evalsha|eval/i); // the first script reply only
      const started = performance.now();
      await queue.add({ args: [1], error: new Error('failed'), source: { service: 'payments', method: 'charge' } });
      const elapsed = performance.now() - started;
      proxy.loseReplies(0);
      t.diagnostic(`added in ${elapsed.toFixed(0)} ms after a lost reply`);
      assert.equal(proxy.stats.repliesLost - lostBefore, 1, 'one reply was lost');
      assert.equal(await direct.zcard('{once:once-fast}:ids'), 1, 'stored once');
      assert.ok(elapsed < 2500, `${elapsed.toFixed(0)} ms: sent again at the reconnection (before: 5 s and more)`);
    } finally {
      client.disconnect();
    }
  });

  it('dead-letter queue: an add whose reply was lost is stored once and reported added', async (t) => {
    const client = await viaProxy();
    const queue = new DeadLetterQueue({
      name: 'once-letters',
      backend: new RedisDeadLetterBackend({ client, queue: 'once-letters', keyPrefix: 'once' }),
    });
    try {
      const lostBefore = proxy.stats.repliesLost;
      proxy.loseReplies(0.2, seeded(9));
      // In rounds of 10, as failures arrive: a reset fails every command in flight on the
      // connection, and one caught in three resets in a row gives up (its outcome unknown).
      const results: PromiseSettledResult<unknown>[] = [];
      for (let round = 0; round < 4; round++) {
        results.push(
          ...(await Promise.allSettled(
            Array.from({ length: 10 }, (_, j) => {
              const i = round * 10 + j;
              return queue.add({
                args: [i],
                error: new Error(`failed ${i}`),
                source: { service: 'payments', method: 'charge' },
              });
            }),
          )),
        );
      }
      proxy.loseReplies(0);
      const failed = results.filter((r) => r.status === 'rejected');
      const stored = await direct.zcard('{once:once-letters}:ids');
      t.diagnostic(
        `${proxy.stats.repliesLost - lostBefore} replies lost; ${40 - failed.length} adds reported, ${stored} stored`,
      );
      assert.ok(proxy.stats.repliesLost > lostBefore, 'replies were lost');
      assert.deepEqual(failed, []);
      assert.equal(stored, 40);
    } finally {
      client.disconnect();
    }
  });
});
