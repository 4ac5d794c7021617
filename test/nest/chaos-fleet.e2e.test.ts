import 'reflect-metadata';
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  ChaosExperiments,
  ChaosFleetUnavailableError,
  ChaosInjectedError,
  ResilienceModule,
  Resilient,
} from '../../lib/index.js';
import { ADMIN_TOKEN } from '../support/admin-app.js';
import { testRedisUrl } from '../support/redis.js';
import { RedisServer } from '../support/redis-server.js';

const WORKER = join(import.meta.dirname, '../support/service-replica-worker.js');
/** payment_gateway with nothing but chaos between a call and its dependency: each answer shows an injection. */
const REPLICA = {
  service: 'payment_gateway',
  path: 'charge',
  config: {
    chaos: { enabled: true, syncInterval: '100ms' },
    services: {
      payment_gateway: {
        rate: { enabled: false },
        retry: { maxAttempts: 1 },
        circuit: { enabled: false },
        dlq: { enabled: false },
      },
    },
  },
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One replica: a child process serving GET /charge and the admin API over real HTTP. */
class Replica {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static start(redisUrl: string, keyPrefix: string): Promise<Replica> {
    const child = fork(WORKER, [redisUrl, keyPrefix, JSON.stringify(REPLICA)], { stdio: 'inherit' });
    return new Promise((resolve, reject) => {
      child.once('message', (message: { url: string }) => resolve(new Replica(child, message.url)));
      child.once('exit', (code) => reject(new Error(`replica exited with ${code} before it was ready`)));
    });
  }

  /** The status of one GET /charge: 200, or 500 (the injected dependency error, a failure of the route). */
  async charge(): Promise<number> {
    const response = await fetch(`${this.url}/charge`);
    await response.text();
    return response.status;
  }

  admin(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.url}/ops/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async experiments(): Promise<{ id: string; scope: string }[]> {
    return ((await (await this.admin('GET', 'chaos')).json()) as { experiments: { id: string; scope: string }[] })
      .experiments;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** Milliseconds until `check` holds (polled every 10 ms), failing after `ms`. */
async function timeUntil(what: string, check: () => Promise<boolean>, ms = 5000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
  return Date.now() - started;
}

/** What a route answers when its dependency failed (the injected error is the dependency's, not ours). */
const INJECTED = 500;
const FAULT = { service: 'payment_gateway', fault: 'error', error: '503', rate: 1 };

describe('chaos across a fleet (3 replica processes, real redis-server, real HTTP)', () => {
  const replicas: Replica[] = [];
  const keyPrefix = `chaos-fleet-${process.pid}`;

  before(async () => {
    replicas.push(...(await Promise.all([0, 1, 2].map(() => Replica.start(testRedisUrl(), keyPrefix)))));
  });
  after(() => {
    for (const replica of replicas) replica.kill();
  });

  it('an experiment started on one replica runs on all; the kill switch on another ends it everywhere', async (t) => {
    const [a, b, c] = replicas;
    const started = await a.admin('POST', 'chaos', { ...FAULT, duration: '1m' });
    assert.equal(started.status, 201);
    const { id, scope } = (await started.json()) as { id: string; scope: string };
    assert.equal(scope, 'fleet');
    assert.equal(await a.charge(), INJECTED, 'the replica that started it injects at once');
    const reached = await Promise.all(
      [b, c].map((replica) =>
        timeUntil('the fault reaches the replica', async () => (await replica.charge()) === INJECTED),
      ),
    );
    for (const replica of [a, b, c])
      assert.deepEqual(
        (await replica.experiments()).map((e) => e.id),
        [id],
      );

    const killed = await b.admin('DELETE', 'chaos');
    assert.deepEqual(await killed.json(), { stopped: 1 });
    assert.equal(await b.charge(), 200, 'the replica that stopped it, at once');
    const ended = await Promise.all(
      [a, c].map((replica) =>
        timeUntil('the kill switch reaches the replica', async () => (await replica.charge()) === 200),
      ),
    );
    for (const replica of [a, b, c]) assert.deepEqual(await replica.experiments(), []);
    t.diagnostic(
      `start reached the other replicas after ${reached.join(', ')} ms; the kill switch after ${ended.join(', ')} ms (sync every 100 ms)`,
    );
    // Within two sync intervals and a request, also on a busy machine.
    for (const ms of [...reached, ...ended]) assert.ok(ms < 2000, `${ms} ms`);
  });

  it('one experiment stopped by id on any replica; an unknown id is 404 everywhere', async () => {
    const [a, b, c] = replicas;
    const { id } = (await (await c.admin('POST', 'chaos', { ...FAULT, duration: '1m' })).json()) as { id: string };
    await timeUntil('a sees it', async () => (await a.charge()) === INJECTED);
    assert.equal((await a.admin('DELETE', `chaos/${id}`)).status, 200);
    await timeUntil('c stops it', async () => (await c.charge()) === 200);
    await timeUntil('b stops it', async () => (await b.charge()) === 200);
    assert.equal((await b.admin('DELETE', `chaos/${id}`)).status, 404);
  });

  it('ends by itself when the replica that started it has died', async () => {
    const [a, b] = replicas;
    const doomed = await Replica.start(testRedisUrl(), keyPrefix);
    replicas.push(doomed);
    const started = Date.now();
    assert.equal((await doomed.admin('POST', 'chaos', { ...FAULT, duration: '1500ms' })).status, 201);
    doomed.kill();
    await timeUntil('a injects', async () => (await a.charge()) === INJECTED);
    await timeUntil('b injects', async () => (await b.charge()) === INJECTED);
    const endedAfter =
      (await timeUntil('it ends on a', async () => (await a.charge()) === 200)) + (Date.now() - started);
    await timeUntil('it ends on b', async () => (await b.charge()) === 200, 1000);
    assert.ok(Date.now() - started >= 1500, 'not before its end');
    assert.ok(endedAfter < 1500 + 2000, `ended ${endedAfter} ms after its start`);
    assert.deepEqual(await a.experiments(), []);
    // And it is gone from Redis (the next read drops ended ones).
    const redis = new Redis(testRedisUrl());
    try {
      await timeUntil('Redis forgets it', async () => (await redis.hlen(`${keyPrefix}:chaos:experiments`)) === 0, 2000);
    } finally {
      redis.disconnect();
    }
  });
});

@Injectable()
class Payments {
  @Resilient('payment_gateway')
  async charge(): Promise<string> {
    return 'charged';
  }
}

describe('chaos across a fleet while Redis is down', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.stop());

  it('a start is refused (never on this replica alone); a stop still ends it here and says the rest did not hear', async () => {
    @Module({
      imports: [
        ResilienceModule.forRoot({
          redis: { url: redis.url },
          metrics: { enabled: false },
          chaos: { enabled: true, syncInterval: '100ms' },
          services: {
            payment_gateway: { rate: { enabled: false }, retry: { maxAttempts: 1 }, dlq: { enabled: false } },
          },
        }),
      ],
      providers: [Payments],
    })
    class FleetModule {}
    const moduleRef = await Test.createTestingModule({ imports: [FleetModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const chaos = app.get(ChaosExperiments);
      assert.equal(chaos.scope, 'fleet');
      const running = await chaos.begin({ ...FAULT, duration: '1m' }, 'test');
      await assert.rejects(app.get(Payments).charge(), ChaosInjectedError);
      await redis.stop();
      await assert.rejects(chaos.begin({ ...FAULT, duration: '1m' }, 'test'), ChaosFleetUnavailableError);
      assert.deepEqual(
        chaos.list().map((e) => e.id),
        [running.id],
        'the refused one runs nowhere',
      );
      await sleep(300); // reads fail meanwhile: the running one goes on until its end
      assert.equal(chaos.list().length, 1);
      await assert.rejects(chaos.endAll(), /stopped on this replica only/);
      assert.deepEqual(chaos.list(), []);
      assert.equal(await app.get(Payments).charge(), 'charged');
      await assert.rejects(
        chaos.begin({ ...FAULT, duration: '1m', when: () => true }, 'test', 'experiment'),
        /experiment\.when: is a predicate/,
      );
    } finally {
      await app.close();
    }
  });
});
