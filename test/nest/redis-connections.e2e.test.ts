import 'reflect-metadata';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConsoleLogger, Global, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cluster, Redis } from 'ioredis';
import {
  CircuitBreaker,
  CircuitBreakerService,
  CircuitOpenError,
  DeadLetter,
  DeadLetterService,
  RateLimit,
  RateLimitExceededError,
  ResilienceConfigError,
  ResilienceModule,
} from '../../lib/index.js';
import { freePort, RedisCluster, RedisServer } from '../support/redis-server.js';

@Injectable()
class Orders {
  @RateLimit({ name: 'orders_api', rate: 3, per: 60, burst: 0, key: 'global' })
  async place(): Promise<string> {
    return 'placed';
  }

  @DeadLetter('orders_failed', { storageBackend: 'redis', storageConfig: { spool: { enabled: false } } })
  async fail(): Promise<never> {
    throw new Error('order rejected downstream');
  }
}

type ModuleImport = Parameters<typeof Test.createTestingModule>[0]['imports'];

async function app(imports: ModuleImport) {
  const moduleRef = await Test.createTestingModule({ imports, providers: [Orders] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

/** Four calls from two replicas: three fit the shared limit, the fourth is denied. */
async function sharedLimit(a: Orders, b: Orders): Promise<void> {
  assert.equal(await a.place(), 'placed');
  assert.equal(await b.place(), 'placed');
  assert.equal(await a.place(), 'placed');
  await assert.rejects(b.place(), RateLimitExceededError, 'the replicas count in one place');
}

describe('the module on a real 3-node Redis Cluster', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await RedisCluster.start();
  });
  after(async () => {
    await cluster.stop();
  });

  it('redis.cluster: limiters are shared by two replicas and dead letters land in the cluster', async () => {
    const config = {
      metrics: { enabled: false },
      redis: { cluster: { nodes: cluster.startupNodes.map((n) => `${n.host}:${n.port}`) }, keyPrefix: 'c1' },
    };
    const one = await app([ResilienceModule.forRoot(config)]);
    const two = await app([ResilienceModule.forRoot(config)]);
    try {
      await sharedLimit(one.get(Orders), two.get(Orders));
      await assert.rejects(one.get(Orders).fail(), /order rejected downstream/);
      const seen = await two.get(DeadLetterService).queue('orders_failed').list();
      assert.equal(seen.items.length, 1, 'the other replica reads the letter from the cluster');
      assert.equal(seen.items[0]?.error.message, 'order rejected downstream');
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('redis.cluster: a shared circuit breaker counts both replicas and both hear its opening', async () => {
    @Injectable()
    class Ledger {
      @CircuitBreaker('ledger')
      async charge(): Promise<never> {
        throw new Error('ledger down');
      }
    }
    const config = {
      metrics: { enabled: false },
      redis: { cluster: { nodes: cluster.startupNodes.map((n) => `${n.host}:${n.port}`) }, keyPrefix: 'c3' },
      services: { ledger: { circuit: { scope: 'shared' as const, failureThreshold: 2, timeout: 30 } } },
    };
    const replica = async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [ResilienceModule.forRoot(config)],
        providers: [Ledger],
      }).compile();
      moduleRef.useLogger(false);
      return moduleRef.init();
    };
    const one = await replica();
    const two = await replica();
    try {
      await assert.rejects(one.get(Ledger).charge(), /ledger down/);
      await assert.rejects(two.get(Ledger).charge(), /ledger down/);
      assert.equal(two.get(CircuitBreakerService).get('ledger').state, 'open', '1 + 1 failures reached 2');
      // Within 500 ms: published on the Cluster, not found by the once-a-second re-read.
      const deadline = Date.now() + 500;
      while (one.get(CircuitBreakerService).get('ledger').state !== 'open') {
        assert.ok(Date.now() < deadline, 'the first replica heard the opening');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await assert.rejects(one.get(Ledger).charge(), CircuitOpenError);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('an existing Cluster, by value (forRootAsync) and by injection token, is used and never closed', async () => {
    const own = new Cluster(cluster.startupNodes, {
      enableOfflineQueue: false,
      redisOptions: { commandTimeout: 500 },
    });
    await new Promise((resolve) => own.once('ready', resolve));
    @Global()
    @Module({ providers: [{ provide: 'APP_REDIS', useValue: own }], exports: ['APP_REDIS'] })
    class AppRedisModule {}
    const byValue = await app([
      ResilienceModule.forRootAsync({
        useFactory: () => ({ metrics: { enabled: false }, redis: { client: own, keyPrefix: 'c2' } }),
      }),
    ]);
    const byToken = await app([
      AppRedisModule,
      ResilienceModule.forRoot({ metrics: { enabled: false }, redis: { keyPrefix: 'c2' }, redisClient: 'APP_REDIS' }),
    ]);
    try {
      await sharedLimit(byValue.get(Orders), byToken.get(Orders));
    } finally {
      await byValue.close();
      await byToken.close();
    }
    assert.equal(own.status, 'ready', "the application's client stays open");
    assert.equal(await own.set('{c2}:still-mine', '1'), 'OK');
    own.disconnect();
  });
});

/** A real redis-server in sentinel mode watching `master` as 'mymaster' (its config file comes first). */
async function startSentinel(master: RedisServer): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort();
  const file = join(master.dir, 'sentinel.conf');
  writeFileSync(file, `port ${port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\n`);
  const child = spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis sentinel did not start')), 10_000);
    child.on('error', reject);
    child.stdout?.on('data', (chunk) => {
      if (/Sentinel ID is|Ready to accept connections/.test(String(chunk))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdout?.resume();
  return { port, process: child };
}

describe('the module through Redis Sentinel', () => {
  let master: RedisServer;
  let sentinel: { port: number; process: ChildProcess };
  before(async () => {
    master = await RedisServer.start();
    sentinel = await startSentinel(master);
  });
  after(async () => {
    sentinel.process.kill('SIGKILL');
    await master.stop();
  });

  it('redis.sentinels + name: the limiter counts on the master the sentinel names', async () => {
    const config = {
      metrics: { enabled: false },
      redis: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: 'mymaster', keyPrefix: 's1' },
    };
    const one = await app([ResilienceModule.forRoot(config)]);
    const two = await app([ResilienceModule.forRoot(config)]);
    const direct = new Redis(master.url);
    try {
      await sharedLimit(one.get(Orders), two.get(Orders));
      const keys = await direct.keys('*orders_api*');
      assert.ok(keys.length > 0, `the limiter's key is on the master (${keys.join(', ')})`);
    } finally {
      direct.disconnect();
      await one.close();
      await two.close();
    }
  });
});

describe("the application's own client with slow-failing options", () => {
  it('is used, and the module warns once at boot that an outage could hold requests', async () => {
    const server = await RedisServer.start();
    const client = new Redis(server.url);
    const warnings: string[] = [];
    class Recording extends ConsoleLogger {
      override warn(message: unknown) {
        warnings.push(String(message));
      }
    }
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [ResilienceModule.forRoot({ metrics: { enabled: false }, redis: { client } })],
        providers: [Orders],
      })
        .setLogger(new Recording())
        .compile();
      await moduleRef.init();
      assert.equal(await moduleRef.get(Orders).place(), 'placed');
      await moduleRef.close();
      const ours = warnings.filter((w) => /Redis client given to ResilienceModule/.test(w));
      assert.equal(ours.length, 1, warnings.join('\n'));
      assert.match(ours[0] ?? '', /enableOfflineQueue is not false.*no commandTimeout/);
      assert.equal(client.status, 'ready', 'still open after the app closed');
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

describe('redis connection settings', () => {
  it('two ways to connect, sentinels with no name, a client that is not one: one error listing each', async () => {
    await assert.rejects(
      app([
        ResilienceModule.forRoot({
          redis: {
            url: 'redis://127.0.0.1:1',
            cluster: { nodes: ['127.0.0.1:7000', 'nowhere'] },
            sentinels: [{ host: '127.0.0.1', port: 26379 }],
            client: { status: 'ready' } as never,
          },
        }),
      ]),
      (error: unknown) => {
        assert.ok(error instanceof ResilienceConfigError);
        assert.match(error.message, /redis\.cluster\.nodes\[1\]: must be 'host:port'/);
        assert.match(error.message, /redis\.client: must be an ioredis Redis or Cluster instance/);
        assert.match(error.message, /redis: names 4 ways to connect/);
        assert.match(error.message, /redis\.name: is required with sentinels/);
        return true;
      },
    );
  });
});
