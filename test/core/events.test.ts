import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreakerPolicy, CircuitOpenError, EventSource, RetryPolicy } from '../../lib/core/index.js';

const noWait = async () => {};

describe('typed events, subscribed at any time', () => {
  it('a retry policy tells listeners that subscribed after it was created; unsubscribing stops them', async () => {
    const policy = new RetryPolicy({ maxAttempts: 3, baseDelay: 0, jitter: false, sleep: noWait });
    const outcomes: { attempts: number; succeeded: boolean }[] = [];
    const retries: number[] = [];
    const stop = policy.onComplete((outcome) => outcomes.push(outcome));
    policy.onRetry((event) => retries.push(event.attempt));
    let calls = 0;
    assert.equal(
      await policy.execute(async () => {
        if (++calls < 2) throw new Error('once');
        return 'ok';
      }),
      'ok',
    );
    await policy.execute(async () => 'first try');
    await assert.rejects(
      policy.execute(async () => {
        throw new Error('always');
      }),
    );
    assert.deepEqual(outcomes, [
      { attempts: 2, succeeded: true },
      { attempts: 1, succeeded: true },
      { attempts: 3, succeeded: false },
    ]);
    assert.deepEqual(retries, [2, 2, 3]);
    stop();
    await policy.execute(async () => 'unheard');
    assert.equal(outcomes.length, 3);
  });

  it('a breaker tells state changes, outcomes and rejections through its events', async () => {
    const breaker = new CircuitBreakerPolicy('events', { failureThreshold: 1 });
    const seen: string[] = [];
    breaker.onSuccess(() => seen.push('success'));
    breaker.onFailure(({ error }) => seen.push(`failure ${(error as Error).message}`));
    breaker.onStateChange(({ from, to }) => seen.push(`${from}->${to}`));
    breaker.onRejection(({ name }) => seen.push(`rejected ${name}`));
    await breaker.execute(async () => 1);
    await assert.rejects(
      breaker.execute(async () => {
        throw new Error('down');
      }),
    );
    await assert.rejects(
      breaker.execute(async () => 1),
      CircuitOpenError,
    );
    assert.deepEqual(seen, ['success', 'failure down', 'closed->open', 'rejected events']);
  });

  it('a listener that throws changes nothing for the call or the other listeners, and is reported', async () => {
    const source = new EventSource<number>();
    const got: number[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    source.event(() => {
      throw new Error('bad listener');
    });
    source.event((n) => got.push(n));
    source.emit(7);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    assert.deepEqual(got, [7]);
    assert.ok(warnings.some((w) => /bad listener/.test(w)));
    const policy = new RetryPolicy({ maxAttempts: 1 });
    policy.onComplete(() => {
      throw new Error('also bad');
    });
    assert.equal(await policy.execute(async () => 'still ok'), 'still ok');
  });
});
