import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import fc from 'fast-check';
import { BulkheadPolicy, BulkheadRejectedError, CircuitBreakerPolicy, ManualClock } from '../../../lib/core/index.js';

/** A call the test ends when it wants. */
function deferred<T = string>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('BulkheadPolicy (fixed limit)', () => {
  it('runs at most maxConcurrent at once, queues up to maxQueue in FIFO order, turns the rest away as full', async () => {
    const bulkhead = new BulkheadPolicy('db', { maxConcurrent: 2, maxQueue: 2, queueTimeout: 60 });
    const calls = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const results = calls.map((call, i) =>
      bulkhead.execute(() => {
        started.push(i);
        return call.promise;
      }),
    );
    assert.deepEqual(started, [0, 1]);
    assert.equal(bulkhead.inFlight, 2);
    assert.equal(bulkhead.queued, 2);
    await assert.rejects(results[4], (e: unknown) => {
      assert.ok(e instanceof BulkheadRejectedError);
      assert.equal(e.reason, 'full');
      assert.equal(e.bulkhead, 'db');
      assert.equal(e.retryAfter, 1);
      assert.match(e.message, /Bulkhead "db" is full/);
      return true;
    });
    calls[1].resolve('one');
    await flush();
    assert.deepEqual(started, [0, 1, 2], 'the oldest waiter gets the slot');
    calls[0].reject(new Error('zero failed'));
    await flush();
    assert.deepEqual(started, [0, 1, 2, 3]);
    calls[2].resolve('two');
    calls[3].resolve('three');
    assert.equal(await results[1], 'one');
    await assert.rejects(results[0], /zero failed/);
    assert.deepEqual(await Promise.all([results[2], results[3]]), ['two', 'three']);
    await flush();
    assert.equal(bulkhead.inFlight, 0);
    assert.equal(bulkhead.queued, 0);
  });

  it('a new call queues behind waiting ones even when a slot is free at that moment (FIFO)', async () => {
    const bulkhead = new BulkheadPolicy('fifo', { maxConcurrent: 1, maxQueue: 10, queueTimeout: 60 });
    const order: string[] = [];
    const first = deferred();
    const a = bulkhead.execute(() => first.promise);
    const b = bulkhead.execute(async () => order.push('b'));
    first.resolve('x');
    // The slot is released in a reaction; a call arriving after it must still go after b.
    await Promise.resolve();
    const c = bulkhead.execute(async () => order.push('c'));
    await Promise.all([a, b, c]);
    assert.deepEqual(order, ['b', 'c']);
  });

  it('returns the operation’s own promise, frees the slot on a synchronous throw and on a plain value', async () => {
    const bulkhead = new BulkheadPolicy('sync', { maxConcurrent: 1 });
    const own = Promise.resolve('own');
    assert.equal(
      bulkhead.execute(() => own),
      own,
    );
    await own;
    await flush();
    await assert.rejects(
      bulkhead.execute(() => {
        throw new Error('sync');
      }),
      /sync/,
    );
    assert.equal(await bulkhead.execute(() => 42), 42);
    await flush();
    assert.equal(bulkhead.inFlight, 0);
  });

  it('a queued call times out after exactly queueTimeout (manual clock, one timer), freeing its place', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const clock = new ManualClock(1_000);
      const bulkhead = new BulkheadPolicy('slow', { maxConcurrent: 1, maxQueue: 1, queueTimeout: '250ms', clock });
      const running = deferred();
      void bulkhead.execute(() => running.promise);
      const waiting = bulkhead.execute(async () => 'never');
      let settled = false;
      waiting.then(
        () => (settled = true),
        () => (settled = true),
      );
      clock.advance(249);
      mock.timers.tick(249);
      await flush();
      assert.equal(settled, false, 'still waiting at 249 ms');
      assert.equal(bulkhead.queued, 1);
      clock.advance(1);
      mock.timers.tick(1);
      await assert.rejects(waiting, (e: unknown) => e instanceof BulkheadRejectedError && e.reason === 'queue_timeout');
      assert.equal(bulkhead.queued, 0, 'its place is free');
      running.resolve('done');
    } finally {
      mock.timers.reset();
    }
  });

  it('an aborted waiter leaves the queue at once with the signal’s reason; the next waiter moves up', async () => {
    const bulkhead = new BulkheadPolicy('abort', { maxConcurrent: 1, maxQueue: 1, queueTimeout: 60 });
    const running = deferred();
    void bulkhead.execute(() => running.promise);
    const controller = new AbortController();
    const aborted = bulkhead.execute(async () => 'never', undefined, controller.signal);
    await assert.rejects(
      bulkhead.execute(async () => 'x'),
      /is full/,
    );
    controller.abort(new Error('caller gave up'));
    await assert.rejects(aborted, /caller gave up/);
    assert.equal(bulkhead.queued, 0, 'its place is free at once');
    // Would queue behind the running call, but its signal is already aborted: refused at once.
    await assert.rejects(
      bulkhead.execute(async () => 'x', undefined, AbortSignal.abort(new Error('already aborted'))),
      /already aborted/,
    );
    assert.equal(bulkhead.queued, 0);
    const next = bulkhead.execute(async () => 'next');
    assert.equal(bulkhead.queued, 1, 'the freed place is taken by the next caller');
    running.resolve('done');
    assert.equal(await next, 'next');
  });

  it('property: never more than the limit in flight, every call settles, counts return to zero', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        async (limit, maxQueue, calls) => {
          const bulkhead = new BulkheadPolicy('p', { maxConcurrent: limit, maxQueue, queueTimeout: 60 });
          let inside = 0;
          let most = 0;
          const outcomes = calls.map(([ticks, fails]) =>
            bulkhead
              .execute(async () => {
                inside++;
                most = Math.max(most, inside);
                for (let t = 0; t < ticks; t++) await Promise.resolve();
                inside--;
                if (fails) throw new Error('f');
                return 'ok';
              })
              .then(
                () => 'ok',
                (e: unknown) => (e instanceof BulkheadRejectedError ? 'rejected' : 'failed'),
              ),
          );
          const settled = await Promise.all(outcomes);
          await flush();
          assert.ok(most <= limit, `${most} in flight with a limit of ${limit}`);
          assert.ok(settled.filter((s) => s === 'rejected').length <= Math.max(0, calls.length - limit));
          assert.equal(bulkhead.inFlight, 0);
          assert.equal(bulkhead.queued, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('tells rejections through onRejected; enabled: false runs everything', async () => {
    const bulkhead = new BulkheadPolicy('events', { maxConcurrent: 1 });
    const seen: string[] = [];
    bulkhead.onRejected(({ name, reason }) => seen.push(`${name} ${reason}`));
    const running = deferred();
    void bulkhead.execute(() => running.promise);
    await assert.rejects(bulkhead.execute(async () => 1));
    assert.deepEqual(seen, ['events full']);
    running.resolve('x');
    const off = new BulkheadPolicy('off', { maxConcurrent: 1, enabled: false });
    const both = await Promise.all([off.execute(async () => 1), off.execute(async () => 2)]);
    assert.deepEqual(both, [1, 2]);
  });

  it('bad options name the problem', () => {
    assert.throws(() => new BulkheadPolicy('x', { maxConcurrent: 0 }), /maxConcurrent must be an integer >= 1/);
    assert.throws(() => new BulkheadPolicy('x', { maxQueue: -1 }), /maxQueue must be an integer >= 0/);
    assert.throws(() => new BulkheadPolicy('x', { maxQueue: 5, queueTimeout: 0 }), /queueTimeout must be > 0/);
    assert.throws(
      () => new BulkheadPolicy('x', { adaptive: { algorithm: 'vegas', minLimit: 10, initialLimit: 5, maxLimit: 20 } }),
      /minLimit <= initialLimit <= maxLimit, got 10 <= 5 <= 20/,
    );
    assert.throws(
      () => new BulkheadPolicy('x', { adaptive: { algorithm: 'bbr' as never } }),
      /algorithm must be one of aimd, vegas, gradient2/,
    );
    assert.throws(
      () => new BulkheadPolicy('x', { adaptive: { algorithm: 'gradient2', longWindow: 600 } as never }),
      /adaptive.longWindow was removed: gradient2 now measures against the no-load latency/,
    );
    assert.throws(
      () => new BulkheadPolicy('x', { adaptive: { algorithm: 'vegas', rttTolerance: 0.9 } }),
      /adaptive.rttTolerance must be in \[1, 10\], got 0.9/,
    );
  });

  it('a breaker does not count a bulkhead’s rejection as the dependency failing', async () => {
    const breaker = new CircuitBreakerPolicy('dep', { failureThreshold: 1 });
    const shed = BulkheadRejectedError.stackless('dep', 'full', 1);
    await assert.rejects(breaker.execute(() => Promise.reject(shed)));
    assert.equal(breaker.state, 'closed');
    await assert.rejects(breaker.execute(() => Promise.reject(new Error('real failure'))));
    assert.equal(breaker.state, 'open');
  });
});
