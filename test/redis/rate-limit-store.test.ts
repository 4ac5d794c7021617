import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Cluster, type Redis } from 'ioredis';
import {
  createRedisClient,
  MemoryRateLimitStore,
  RateLimiter,
  type RateLimitRule,
  RedisRateLimitStore,
} from '../../lib/index.js';
import { testRedisUrl } from '../support/redis.js';
import { RedisCluster, RedisServer } from '../support/redis-server.js';

const run = promisify(execFile);
const rule = (
  name: string,
  rate: number,
  per: number,
  strategy: RateLimitRule['strategy'],
  burst = 0,
): RateLimitRule => ({
  name,
  rate,
  windowMs: per * 1000,
  burst,
  strategy,
});

async function evalshaCalls(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  const match = /cmdstat_evalsha:calls=(\d+)/.exec(info);
  return match ? Number(match[1]) : 0;
}

describe('Redis rate-limit store (real redis-server)', () => {
  let client: Redis;
  before(async () => {
    client = await createRedisClient({ url: testRedisUrl() });
  });
  after(() => client.disconnect());

  for (const strategy of ['token_bucket', 'fixed_window', 'sliding_window'] as const) {
    it(`${strategy}: admits exactly rate + burst of 500 concurrent calls, in few script calls`, async () => {
      // A server of this test's own: script calls of other test files would count on the shared one.
      const server = await RedisServer.start();
      const client = await createRedisClient({ url: server.url });
      try {
        const store = new RedisRateLimitStore({ client, keyPrefix: `t-${strategy}` });
        const limiter = new RateLimiter({ name: 'api', rate: 100, per: 3600, burst: 20, strategy, store });
        const calls = await evalshaCalls(client);
        const verdicts = await Promise.all(Array.from({ length: 500 }, () => limiter.consume('user-1')));
        assert.equal(verdicts.filter((v) => v.allowed).length, 120);
        const denied = verdicts.find((v) => !v.allowed);
        assert.ok(denied && denied.retryAfter > 0 && denied.remaining === 0);
        const scriptCalls = (await evalshaCalls(client)) - calls;
        assert.ok(
          scriptCalls >= 1 && scriptCalls <= Math.ceil(500 / 64),
          `decisions of one tick share script calls (${scriptCalls} for 500)`,
        );
      } finally {
        client.disconnect();
        await server.stop();
      }
    });
  }

  it('stores state under {prefix:key}:limiter with an expiry, using the server clock', async () => {
    const store = new RedisRateLimitStore({ client, keyPrefix: 'layout' });
    const limiter = new RateLimiter({ name: 'per_user', rate: 10, per: 60, strategy: 'fixed_window', store });
    await limiter.consume('u42');
    const ttl = await client.pttl('{layout:u42}:per_user');
    assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
  });

  it('decides several limits for one call atomically: a denial counts nowhere', async () => {
    const store = new RedisRateLimitStore({ client, keyPrefix: `multi-rule-${Date.now()}` });
    const perSecond = rule('per_second', 2, 1, 'fixed_window');
    const perHour = rule('per_hour', 100, 3600, 'fixed_window');
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await store.consume([perSecond, perHour], 'k', 1));
    const allowed = results.filter((r) => r.every((v) => v.allowed)).length;
    assert.ok(allowed >= 2 && allowed < 4, 'the per-second rule denied at least one call');
    // The denied calls did not count in the hourly rule:
    const [hour] = await store.peek([perHour], 'k', 1);
    assert.equal(hour.remaining, 100 - allowed - 1);
  });

  it('isolates key prefixes (apps, tenants)', async () => {
    const a = new RateLimiter({
      name: 'x',
      rate: 1,
      per: 60,
      store: new RedisRateLimitStore({ client, keyPrefix: `app-a-${Date.now()}` }),
    });
    const b = new RateLimiter({
      name: 'x',
      rate: 1,
      per: 60,
      store: new RedisRateLimitStore({ client, keyPrefix: `app-b-${Date.now()}` }),
    });
    assert.equal((await a.consume('k')).allowed, true);
    assert.equal((await b.consume('k')).allowed, true);
    assert.equal((await a.consume('k')).allowed, false);
  });

  it('resets a key', async () => {
    const limiter = new RateLimiter({
      name: 'r',
      rate: 1,
      per: 60,
      store: new RedisRateLimitStore({ client, keyPrefix: `reset-${Date.now()}` }),
    });
    await limiter.consume('k');
    assert.equal((await limiter.consume('k')).allowed, false);
    await limiter.reset('k');
    assert.equal((await limiter.consume('k')).allowed, true);
  });

  it('admits exactly the limit across 4 processes sharing one key', async () => {
    const key = `shared-${Date.now()}`;
    const worker = fileURLToPath(new URL('../support/limiter-worker.js', import.meta.url));
    const outputs = await Promise.all(
      [0, 1, 2, 3].map(() => run(process.execPath, [worker, testRedisUrl(), key, '500'])),
    );
    const admitted = outputs.reduce((sum, o) => sum + Number(o.stdout.trim()), 0);
    assert.equal(admitted, 1000, '4 x 500 attempts against a limit of 1000');
  });
});

describe('Redis rate-limit store on a real 3-node Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  before(async () => {
    cluster = await RedisCluster.start();
    client = new Cluster(cluster.startupNodes, { enableOfflineQueue: true, redisOptions: { commandTimeout: 2000 } });
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  });
  after(async () => {
    client.disconnect();
    await cluster.stop();
  });

  it('admits exactly the limit per key over keys spread across slots', async () => {
    const store = new RedisRateLimitStore({ client, keyPrefix: 'cluster' });
    const limiter = new RateLimiter({ name: 'api', rate: 50, per: 3600, strategy: 'sliding_window', store });
    const keys = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const verdicts = await Promise.all(
      keys.flatMap((key) => Array.from({ length: 80 }, () => limiter.consume(key).then((v) => [key, v] as const))),
    );
    for (const key of keys) {
      assert.equal(verdicts.filter(([k, v]) => k === key && v.allowed).length, 50, key);
    }
    const masters = client.nodes('master');
    const withKeys = await Promise.all(masters.map((node) => node.dbsize()));
    assert.ok(withKeys.filter((n) => n > 0).length >= 2, 'keys landed on several nodes');
  });
});

describe('Redis outage (failure modes)', () => {
  it("'local' keeps deciding in memory while Redis is down, without hanging, and Redis takes back over", async () => {
    const server = await RedisServer.start();
    const client = await createRedisClient({ url: server.url, commandTimeout: '200ms', connectTimeout: '200ms' });
    client.on('error', () => {});
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const errors: unknown[] = [];
    const store = new RedisRateLimitStore({
      client,
      keyPrefix: 'outage',
      failureMode: 'local',
      local: new MemoryRateLimitStore(),
      onError: (e) => errors.push(e),
    });
    const limiter = new RateLimiter({ name: 'api', rate: 5, per: 3600, strategy: 'fixed_window', store });
    try {
      assert.equal((await limiter.consume('k')).allowed, true);
      // Load while the server dies.
      const load = Array.from({ length: 200 }, (_, i) =>
        new Promise((r) => setTimeout(r, i % 20)).then(() => limiter.consume('k')),
      );
      await server.kill();
      const started = Date.now();
      const verdicts = await Promise.all(load);
      assert.ok(Date.now() - started < 3000, 'no request hung');
      assert.equal(verdicts.length, 200);
      assert.ok(errors.length > 0, 'the outage was reported');
      const during = await limiter.consume('fresh-key');
      assert.equal(during.allowed, true, 'the local limiter decides');
      // Redis returns: its state is authoritative again.
      await server.restart();
      await new Promise<void>((resolve) =>
        client.status === 'ready' ? resolve() : client.once('ready', () => resolve()),
      );
      const back = await limiter.consume('back');
      assert.equal(back.allowed, true);
      assert.equal(await client.exists('{outage:back}:api'), 1, 'decided by Redis again');
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      client.disconnect();
      await server.stop();
    }
  });

  it("'open' admits and 'closed' denies while Redis is unreachable", async () => {
    const server = await RedisServer.start();
    const client = await createRedisClient({ url: server.url, commandTimeout: '200ms', connectTimeout: '200ms' });
    client.on('error', () => {});
    await server.kill();
    try {
      const open = new RateLimiter({
        name: 'o',
        rate: 1,
        per: 60,
        store: new RedisRateLimitStore({ client, failureMode: 'open' }),
      });
      const closed = new RateLimiter({
        name: 'c',
        rate: 1,
        per: 60,
        store: new RedisRateLimitStore({ client, failureMode: 'closed' }),
      });
      assert.equal((await open.consume('k')).allowed, true);
      assert.equal((await open.consume('k')).allowed, true);
      const denied = await closed.consume('k');
      assert.equal(denied.allowed, false);
      assert.equal(denied.retryAfter, 1);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});
