import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BulkheadPolicy,
  BulkheadRejectedError,
  DeadLetterQueue,
  ResiliencePipeline,
  RetryPolicy,
  STAGE_ORDER,
} from '../../../lib/core/index.js';

describe('the bulkhead stage (innermost, around each attempt)', () => {
  it('sits after the retry in the guide’s order (innermost; an attempt’s timeout between them counts its wait)', () => {
    // Only chaos lies inside it: it stands for the dependency itself, so an injected latency holds the slot.
    assert.deepEqual(STAGE_ORDER.slice(-4), ['retry', 'attempt_timeout', 'bulkhead', 'chaos']);
  });

  it('a call waiting in retry backoff holds no slot: another call runs meanwhile', async () => {
    const bulkhead = new BulkheadPolicy('dep', { maxConcurrent: 1 });
    let releaseBackoff!: () => void;
    const backoff = new Promise<void>((resolve) => {
      releaseBackoff = resolve;
    });
    const pipeline = new ResiliencePipeline({
      bulkhead,
      retry: new RetryPolicy({ maxAttempts: 2, baseDelay: 0, jitter: false, sleep: () => backoff }),
    });
    let first = 0;
    const flaky = pipeline.call(async () => {
      if (++first === 1) throw new Error('transient');
      return 'flaky ok';
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(bulkhead.inFlight, 0, 'the failed attempt gave its slot back before the backoff');
    assert.equal(await pipeline.call(async () => 'other'), 'other', 'another call got the slot');
    releaseBackoff();
    assert.equal(await flaky, 'flaky ok');
  });

  it('a call whose last attempt the bulkhead refused is dead-lettered once as bulkhead_rejected; one it admitted then failed, as failed', async () => {
    const bulkhead = new BulkheadPolicy('dep', { maxConcurrent: 1 });
    const queue = new DeadLetterQueue({ name: 'dep' });
    const pipeline = new ResiliencePipeline({
      bulkhead,
      deadLetter: { queue, rethrow: true },
      retry: new RetryPolicy({ maxAttempts: 2, baseDelay: 0, jitter: false, sleep: async () => {} }),
    });
    let releaseHolder!: () => void;
    const holder = pipeline.call(
      () =>
        new Promise<string>((resolve) => {
          releaseHolder = () => resolve('held');
        }),
    );
    await assert.rejects(
      pipeline.call(async () => 'never runs'),
      (e: unknown) => e instanceof BulkheadRejectedError,
    );
    releaseHolder();
    await holder;
    await assert.rejects(
      pipeline.call(async () => {
        throw new Error('admitted, then failed');
      }),
      /admitted, then failed/,
    );
    const letters = (await queue.list()).items;
    assert.deepEqual(
      letters.map((l) => [l.reason, l.attempts]),
      [
        ['bulkhead_rejected', 2],
        ['failed', 2],
      ],
    );
  });
});
