import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { ManualClock } from '../../lib/core/clock.js';
import { CircuitOpenError } from '../../lib/core/errors.js';
import { createRedisClient } from '../../lib/index.js';
import { CircuitFleet } from '../../lib/redis/shared-circuit/circuit-fleet.js';
import { QuorumCircuitBreaker } from '../../lib/redis/shared-circuit/quorum-breaker.js';
import { SharedCircuitBreaker } from '../../lib/redis/shared-circuit/shared-breaker.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { testRedisUrl } from '../support/redis.js';
import { RedisServer } from '../support/redis-server.js';
import { fail, ok, quorumReplicas, until } from '../support/shared-circuit-replicas.js';

describe('QuorumCircuitBreaker (each replica its own breaker; the quorum of open replicas opens all)', () => {
  it('one replica with a private failure opens alone; a second opens all four (replicas: 2)', async () => {
    const { breakers } = await quorumReplicas(4, { replicas: 2 });
    const [a, b, c, d] = breakers;
    await fail(a);
    await until('the fleet counts one open replica', () => breakers.every((x) => x.fleetCount.open === 1));
    assert.equal(a.state, 'open');
    assert.deepEqual([b.state, c.state, d.state], ['closed', 'closed', 'closed']);
    assert.equal(await c.execute(ok), 'ok');
    await fail(b);
    await until('every replica acts open', () => breakers.every((x) => x.state === 'open'));
    await assert.rejects(d.execute(ok), CircuitOpenError);
    assert.deepEqual(d.fleetCount, { live: 4, open: 2 });
  });

  it('percent: half of the live replicas', async () => {
    const { breakers } = await quorumReplicas(4, { percent: 50 });
    await fail(breakers[0]);
    await until('counted', () => breakers[3].fleetCount.open === 1);
    assert.equal(breakers[3].state, 'closed');
    await fail(breakers[1]);
    await until('all open', () => breakers.every((x) => x.state === 'open'));
  });

  it('a replica that stops beating leaves the count once its heartbeat expires', async () => {
    const { clock, breakers } = await quorumReplicas(3, { replicas: 2 });
    const [a, b, c] = breakers;
    await fail(a);
    await fail(b);
    await until('c acts open', () => c.state === 'open');
    await b.dispose();
    await until('c closes again', () => c.state === 'closed');
    // A replica that died without leaving: counted until its heartbeat expires (3 x syncInterval).
    await fail(c);
    await until('all open', () => a.state === 'open' && c.state === 'open');
    (a as unknown as { leave: () => void }).leave();
    clock.advance(3_001);
    await c.beat();
    assert.deepEqual(c.fleetCount, { live: 1, open: 1 });
  });
});

describe('QuorumCircuitBreaker under a network partition', () => {
  it('percent 50 of 4: two replicas cut off from Redis fall silent, and one bad replica still cannot open the healthy one', async () => {
    const clock = new ManualClock(1_000_000);
    const port = Number(new URL(testRedisUrl()).port);
    const keyPrefix = `partition-${process.pid}`;
    const proxies: FaultProxy[] = [];
    const fleets: CircuitFleet[] = [];
    const clients: Redis[] = [];
    const breakers: QuorumCircuitBreaker[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        // c and d reach Redis through proxies that the test cuts.
        const proxy = i >= 2 ? await FaultProxy.start(port) : undefined;
        if (proxy) proxies.push(proxy);
        const client = await createRedisClient({ url: proxy?.url ?? testRedisUrl() });
        client.on('error', () => {});
        clients.push(client);
        const fleet = new CircuitFleet({ client, keyPrefix, serverClock: clock });
        fleets.push(fleet);
        breakers.push(
          new QuorumCircuitBreaker('search', {
            failureThreshold: 1,
            timeout: 30,
            clock,
            fleet,
            quorum: { percent: 50 },
          }),
        );
      }
      const [a, b] = breakers;
      await Promise.all(breakers.map((x) => x.beat()));
      // The beats ran at once: a's read may have come before the last one landed. Once more, alone.
      await a.beat();
      assert.deepEqual(a.fleetCount, { live: 4, open: 0 });
      for (const proxy of proxies) proxy.partition();
      // c and d's heartbeats stop reaching Redis; 3 sync intervals later they are no longer live.
      clock.advance(3_001);
      await Promise.all(breakers.map((x) => x.beat()));
      assert.deepEqual(a.fleetCount, { live: 2, open: 0 });
      assert.equal(a.fleetSize, 4, 'the fleet is still the 4 seen live');
      await fail(a);
      await until('b hears a open', () => b.fleetCount.open === 1);
      assert.equal(a.state, 'open');
      assert.equal(b.state, 'closed', '1 open of a fleet of 4 is no quorum of 50%');
      for (let i = 0; i < 20; i++) assert.equal(await b.execute(ok), 'ok');
      // A real outage still opens the connected replicas: 2 of 4.
      await fail(b);
      await until('both connected replicas act open', () => a.state === 'open' && b.state === 'open');
    } finally {
      for (const fleet of fleets) fleet.close();
      for (const client of clients) client.disconnect();
      for (const proxy of proxies) await proxy.close();
    }
  });

  it('the fleet forgets a peak after 10 minutes (a deliberate scale-down), and fleetSize sets a floor', async () => {
    const { clock, breakers } = await quorumReplicas(3, { percent: 50 });
    const [a, b, c] = breakers;
    await c.dispose();
    await b.dispose();
    await a.beat();
    assert.equal(a.fleetSize, 3);
    clock.advance(600_001);
    await a.beat();
    assert.equal(a.fleetSize, 1);
    assert.throws(
      () =>
        new QuorumCircuitBreaker('x', {
          fleet: (a as unknown as { fleet: CircuitFleet }).fleet,
          quorum: { replicas: 2, fleetSize: 4 },
        }),
      /fleetSize applies to quorum.percent/,
    );
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
