import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitOpenError } from '../../lib/core/errors.js';
import { anotherReplica, fail, ok, replicas, until } from '../support/shared-circuit-replicas.js';

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
    const restarted = await anotherReplica(breakers[0], clock, { failureThreshold: 1, timeout: 30 });
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
