import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BulkheadPolicy, BulkheadRejectedError } from '../../../lib/core/index.js';

/** A call that runs until released. */
function held() {
  let release!: () => void;
  const done = new Promise<string>((resolve) => {
    release = () => resolve('done');
  });
  return { run: () => done, release };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('a bulkhead handed over to its successor (a reload changed its settings)', () => {
  it('running calls count against the new limit; queued ones are served first, in its slots; no call is lost', async () => {
    const old = new BulkheadPolicy('b', { maxConcurrent: 2, maxQueue: 5 });
    const calls = Array.from({ length: 4 }, held);
    const results = calls.map((call) => old.execute(call.run));
    assert.equal(old.inFlight, 2);
    assert.equal(old.queued, 2);

    const next = new BulkheadPolicy('b', { maxConcurrent: 3, maxQueue: 5 });
    old.handOver(next);
    assert.equal(next.inFlight, 3, 'two still running on the old one, and the oldest waiter took the new third slot');
    assert.equal(old.queued, 1);

    const late = held();
    const arriving = next.execute(late.run);
    assert.equal(next.queued, 1, 'the new limit is full: a new call waits');
    const throughOld = held();
    const stale = old.execute(throughOld.run); // a call of a pipeline built before the reload
    assert.equal(next.queued, 2, 'it queues on the new bulkhead, not beside the old limit');

    calls[0].release();
    await tick();
    assert.equal(old.queued, 0, "a freed slot goes to the old queue's waiter first");
    assert.equal(next.inFlight, 3);
    for (const call of [...calls, late, throughOld]) call.release();
    await tick();
    await tick();
    assert.deepEqual(await Promise.all([...results, arriving, stale]), Array(6).fill('done'));
    assert.equal(next.inFlight, 0);
    assert.equal(old.inFlight, 0);
  });

  it('a smaller limit: running calls go on; new ones wait until the count is under it', async () => {
    const old = new BulkheadPolicy('b', { maxConcurrent: 4, maxQueue: 0 });
    const calls = Array.from({ length: 4 }, held);
    const results = calls.map((call) => old.execute(call.run));
    const next = new BulkheadPolicy('b', { maxConcurrent: 2, maxQueue: 0 });
    old.handOver(next);
    await assert.rejects(
      next.execute(async () => 'x'),
      BulkheadRejectedError,
      '4 running, limit 2: full',
    );
    calls[0].release();
    calls[1].release();
    calls[2].release();
    await tick();
    assert.equal(next.inFlight, 1);
    assert.equal(await next.execute(async () => 'in'), 'in');
    calls[3].release();
    await Promise.all(results);
  });

  it('shutdown cancels the waiters of both', async () => {
    const old = new BulkheadPolicy('b', { maxConcurrent: 1, maxQueue: 5 });
    const running = held();
    void old.execute(running.run);
    const waiting = old.execute(async () => 'never');
    const next = new BulkheadPolicy('b', { maxConcurrent: 1, maxQueue: 5 });
    old.handOver(next);
    const reason = new Error('shutting down');
    next.cancelWaiting(reason);
    await assert.rejects(waiting, /shutting down/);
    running.release();
  });
});
