import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { ManualClock } from '../../lib/core/clock.js';
import { CircuitOpenError } from '../../lib/core/errors.js';
import { createRedisClient } from '../../lib/index.js';
import { CircuitFleet } from '../../lib/redis/shared-circuit/circuit-fleet.js';
import { QuorumCircuitBreaker } from '../../lib/redis/shared-circuit/quorum-breaker.js';
import {
  SharedCircuitBreaker,
  type SharedCircuitBreakerOptions,
} from '../../lib/redis/shared-circuit/shared-breaker.js';
import { testRedisUrl } from '../support/redis.js';
import { RedisServer } from '../support/redis-server.js';

const clients: Redis[] = [];
const fleets: CircuitFleet[] = [];
after(() => {
  for (const fleet of fleets) fleet.close();
  for (const client of clients) client.disconnect();
});

let run = 0;
/** `count` replicas of one breaker: each its own connection, one clock for servers and replicas. */
async function replicas(count: number, options: Omit<SharedCircuitBreakerOptions, 'fleet'>) {
  const clock = new ManualClock(1_000_000);
  const keyPrefix = `shared-test-${process.pid}-${++run}`;
  const breakers: SharedCircuitBreaker[] = [];
  for (let i = 0; i < count; i++) {
    const client = await createRedisClient({ url: testRedisUrl() });
    clients.push(client);
    const fleet = new CircuitFleet({ client, keyPrefix, serverClock: clock });
    fleets.push(fleet);
    breakers.push(new SharedCircuitBreaker('payments', { ...options, clock, fleet }));
  }
  await Promise.all(breakers.map((b) => b.refresh()));
  return { clock, breakers };
}

const boom = () => Promise.reject(new Error('down'));
const ok = () => Promise.resolve('ok');
/** Fails the call (and waits for its report) without failing the test. */
const fail = (b: SharedCircuitBreaker) => b.execute(boom).catch((error: Error) => error);

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('SharedCircuitBreaker (one state machine in Redis for every replica)', () => {
  it('counts the failures of every replica: 2 + 1 open a threshold of 3 everywhere', async () => {
    const { breakers } = await replicas(3, { failureThreshold: 3 });
    const [a, b, c] = breakers;
    await fail(a);
    await fail(a);
    assert.equal(b.state, 'closed');
    await fail(b);
    // The replica whose failure opened it knows when its call settles; the others hear it published.
    assert.equal(b.state, 'open');
    await until('every replica is open', () => a.state === 'open' && c.state === 'open');
    await assert.rejects(c.execute(ok), CircuitOpenError);
  });

  it('a reported success resets the failures its replica had seen, not the ones it had not', async () => {
    const { breakers } = await replicas(2, { failureThreshold: 3 });
    const [a, b] = breakers;
    await fail(a);
    await fail(a);
    await a.execute(ok);
    await a.flushSuccesses();
    await fail(b);
    await fail(b);
    assert.equal(b.state, 'closed', 'the success reset the first two');
    await fail(b);
    assert.equal(b.state, 'open');
  });

  it('reading a record that does not exist yet creates it once: a call in flight across two reads still counts', async () => {
    const { clock, breakers } = await replicas(2, { failureThreshold: 2 });
    const [a, b] = breakers;
    let failLate!: (e: Error) => void;
    const inFlight = a.execute(() => new Promise((_, reject) => (failLate = reject)));
    clock.advance(5);
    await a.refresh();
    failLate(new Error('down'));
    await inFlight.catch(() => {});
    await fail(b);
    assert.equal(b.state, 'open', "a's failure was counted: 1 + 1");
  });

  it('a failure of a call admitted before the fleet re-closed changes nothing', async () => {
    const { breakers } = await replicas(2, { failureThreshold: 1, successThreshold: 1, timeout: 1 });
    const [a, b] = breakers;
    let failLate!: (e: Error) => void;
    const late = a.execute(() => new Promise((_, reject) => (failLate = reject)));
    b.forceOpen();
    await b.settled();
    b.forceClose();
    await b.settled();
    await until('a hears the re-closing', () => a.state === 'closed');
    failLate(new Error('late'));
    await late.catch(() => {});
    await a.settled();
    assert.equal(a.state, 'closed');
    assert.equal(b.state, 'closed');
  });

  it('after the open time exactly halfOpenMaxCalls trials run across the fleet; a success closes everyone', async () => {
    const { clock, breakers } = await replicas(3, {
      failureThreshold: 1,
      successThreshold: 1,
      halfOpenMaxCalls: 2,
      timeout: 10,
    });
    await fail(breakers[0]);
    await until('all open', () => breakers.every((b) => b.state === 'open'));
    clock.advance(10_000);
    let ran = 0;
    const release: (() => void)[] = [];
    const trial = () =>
      new Promise<string>((resolve) => {
        ran++;
        release.push(() => resolve('ok'));
      });
    const calls = breakers.flatMap((b) => [b.execute(trial), b.execute(trial)]);
    const rejected = await Promise.all(
      calls.map((p) =>
        Promise.race([
          p.then(
            () => false,
            (e) => e instanceof CircuitOpenError,
          ),
          new Promise((r) => setTimeout(() => r(false), 200)),
        ]),
      ),
    );
    assert.equal(ran, 2, 'two trials in the whole fleet');
    assert.equal(rejected.filter(Boolean).length, 4);
    for (const r of release) r();
    await Promise.all(calls.map((p) => p.catch(() => {})));
    await until('every replica closed', () => breakers.every((b) => b.state === 'closed'));
  });

  it('a lease whose holder never answers expires: another replica gets a trial', async () => {
    const { clock, breakers } = await replicas(2, {
      failureThreshold: 1,
      successThreshold: 1,
      timeout: 5,
      halfOpenTrialTimeout: 2,
    });
    const [a, b] = breakers;
    await fail(a);
    await until('b hears the opening', () => b.state === 'open');
    clock.advance(5_000);
    void a.execute(() => new Promise(() => {})); // hangs holding the lease
    await until('a holds the lease', () => a.state === 'half_open');
    await assert.rejects(b.execute(ok), CircuitOpenError);
    clock.advance(2_001);
    assert.equal(await b.execute(ok), 'ok');
    await b.settled();
    assert.equal(b.state, 'closed');
  });

  it('a replica created while the fleet is open starts open (it never resets the record)', async () => {
    const { clock, breakers } = await replicas(1, { failureThreshold: 1, timeout: 30 });
    await fail(breakers[0]);
    const client = await createRedisClient({ url: testRedisUrl() });
    clients.push(client);
    const keyPrefix = (breakers[0] as unknown as { fleet: { channel: string } }).fleet.channel.replace(
      ':circuit-events',
      '',
    );
    const fleet = new CircuitFleet({ client, keyPrefix, serverClock: clock });
    fleets.push(fleet);
    const restarted = new SharedCircuitBreaker('payments', { failureThreshold: 1, timeout: 30, clock, fleet });
    let reached = false;
    await assert.rejects(
      restarted.execute(() => {
        reached = true;
        return 'ok';
      }),
      CircuitOpenError,
    );
    assert.equal(reached, false);
    assert.equal(restarted.state, 'open');
    assert.equal(restarted.retryAfter, 30);
  });

  it('forceOpen and forceClose act on every replica', async () => {
    const { breakers } = await replicas(2, {});
    const [a, b] = breakers;
    a.forceOpen();
    await a.settled();
    await until('b is forced open', () => b.state === 'open' && b.isForcedOpen);
    a.forceClose();
    await a.settled();
    await until('b is closed', () => b.state === 'closed');
  });

  it('rate mode: the failure rate is over the fleet-wide count window', async () => {
    const { breakers } = await replicas(2, { failureRateThreshold: 50, slidingWindowSize: 4, minimumCalls: 4 });
    const [a, b] = breakers;
    await a.execute(ok);
    await a.flushSuccesses();
    await fail(b);
    await fail(b);
    assert.equal(b.state, 'closed', '2 of 3 calls, under minimumCalls');
    await fail(b);
    assert.equal(b.state, 'open', '3 of 4 failed');
  });

  it('rate mode over a time window: old seconds leave it', async () => {
    const { clock, breakers } = await replicas(2, {
      failureRateThreshold: 50,
      slidingWindowType: 'time',
      slidingWindowSize: 2,
      minimumCalls: 2,
    });
    const [a, b] = breakers;
    await fail(a);
    clock.advance(3_000);
    await b.execute(ok);
    await b.flushSuccesses();
    await b.execute(ok);
    await b.flushSuccesses();
    await fail(a);
    assert.equal(a.state, 'closed', '1 of 3 in the window (the first failure left it)');
    await fail(a);
    assert.equal(a.state, 'closed', '2 of 4: 50% is not above 50');
    await fail(a);
    assert.equal(a.state, 'open', '3 of 5');
  });
});

describe('QuorumCircuitBreaker (each replica its own breaker; the quorum of open replicas opens all)', () => {
  async function quorumReplicas(count: number, quorum: { replicas?: number; percent?: number }) {
    const clock = new ManualClock(1_000_000);
    const keyPrefix = `quorum-test-${process.pid}-${++run}`;
    const breakers: QuorumCircuitBreaker[] = [];
    for (let i = 0; i < count; i++) {
      const client = await createRedisClient({ url: testRedisUrl() });
      clients.push(client);
      const fleet = new CircuitFleet({ client, keyPrefix, serverClock: clock });
      fleets.push(fleet);
      breakers.push(new QuorumCircuitBreaker('search', { failureThreshold: 1, timeout: 30, clock, fleet, quorum }));
    }
    await Promise.all(breakers.map((b) => b.beat()));
    return { clock, breakers };
  }
  const failQ = (b: QuorumCircuitBreaker) => b.execute(boom).catch(() => {});

  it('one replica with a private failure opens alone; a second opens all four (replicas: 2)', async () => {
    const { breakers } = await quorumReplicas(4, { replicas: 2 });
    const [a, b, c, d] = breakers;
    await failQ(a);
    await until('the fleet counts one open replica', () => breakers.every((x) => x.fleetCount.open === 1));
    assert.equal(a.state, 'open');
    assert.deepEqual([b.state, c.state, d.state], ['closed', 'closed', 'closed']);
    assert.equal(await c.execute(ok), 'ok');
    await failQ(b);
    await until('every replica acts open', () => breakers.every((x) => x.state === 'open'));
    await assert.rejects(d.execute(ok), CircuitOpenError);
    assert.deepEqual(d.fleetCount, { live: 4, open: 2 });
  });

  it('percent: half of the live replicas', async () => {
    const { breakers } = await quorumReplicas(4, { percent: 50 });
    await failQ(breakers[0]);
    await until('counted', () => breakers[3].fleetCount.open === 1);
    assert.equal(breakers[3].state, 'closed');
    await failQ(breakers[1]);
    await until('all open', () => breakers.every((x) => x.state === 'open'));
  });

  it('a replica that stops beating leaves the count once its heartbeat expires', async () => {
    const { clock, breakers } = await quorumReplicas(3, { replicas: 2 });
    const [a, b, c] = breakers;
    await failQ(a);
    await failQ(b);
    await until('c acts open', () => c.state === 'open');
    await b.dispose();
    await until('c closes again', () => c.state === 'closed');
    // A replica that died without leaving: counted until its heartbeat expires (3 x syncInterval).
    await failQ(c);
    await until('all open', () => a.state === 'open' && c.state === 'open');
    (a as unknown as { leave: () => void }).leave();
    clock.advance(3_001);
    await c.beat();
    assert.deepEqual(c.fleetCount, { live: 1, open: 1 });
  });
});

describe('SharedCircuitBreaker while Redis is down', () => {
  it('acts alone at once (no call waits), then takes the fleet state again when Redis is back', async () => {
    const server = await RedisServer.start();
    const clock = new ManualClock(1_000_000);
    const client = await createRedisClient({ url: server.url });
    client.on('error', () => {});
    const changes: boolean[] = [];
    const fleet = new CircuitFleet({
      client,
      keyPrefix: 'outage',
      serverClock: clock,
      syncIntervalMs: 50,
      onAvailabilityChange: (available) => changes.push(available),
    });
    try {
      const breaker = new SharedCircuitBreaker('ledger', { failureThreshold: 2, timeout: 60, clock, fleet });
      await breaker.refresh();
      await fail(breaker);
      await server.kill();
      let longest = 0;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await fail(breaker);
        longest = Math.max(longest, performance.now() - started);
      }
      assert.equal(breaker.sharing, false);
      assert.equal(breaker.state, 'open', 'opened by its own count');
      assert.ok(longest < 100, `a call waited ${longest.toFixed(1)} ms`);
      assert.deepEqual(changes, [false], 'told once');
      await server.restart();
      await until('the breaker shares again', () => breaker.sharing);
      // This Redis keeps no data across a restart: the fleet's record is a new, CLOSED one, and
      // it wins over the lone opening.
      assert.equal(breaker.state, 'closed');
      assert.deepEqual(changes, [false, true]);
      await fail(breaker);
      assert.equal(breaker.state, 'closed', 'one failure in the new record');
      await fail(breaker);
      assert.equal(breaker.state, 'open', 'counted in the record again');
      breaker.dispose();
    } finally {
      fleet.close();
      client.disconnect();
      await server.stop();
    }
  });
});
