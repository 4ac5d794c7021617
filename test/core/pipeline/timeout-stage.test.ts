import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compose,
  createContext,
  RetryPolicy,
  retryStage,
  TimeoutError,
  timeoutStage,
} from '../../../lib/core/index.js';
import { TimedClock } from '../../support/timed-clock.js';

const never = () => new Promise<never>(() => {});

describe('the timeout stage, on a clock with timers (exact)', () => {
  it('fails the call with TimeoutError at its deadline and aborts the signal the operation got', async () => {
    const clock = new TimedClock();
    const run = compose([timeoutStage({ timeout: 0.5, clock })]);
    const seen: { signal?: AbortSignal; outcome?: unknown } = {};
    run(
      createContext((context) => {
        seen.signal = context.signal;
        return never();
      }),
    ).catch((error: unknown) => {
      seen.outcome = error;
    });
    await clock.advance(499);
    assert.ok(seen.outcome === undefined, 'not before its deadline');
    assert.equal(seen.signal?.aborted, false);
    await clock.advance(1);
    const outcome = seen.outcome as unknown;
    assert.ok(outcome instanceof TimeoutError && outcome.timeout === 0.5 && outcome.per === 'call');
    assert.equal(seen.signal?.reason, outcome, 'the signal aborts with the same error');
  });

  it('an answer in time is the answer; the deadline is cancelled (nothing fires later)', async () => {
    const clock = new TimedClock();
    const run = compose([timeoutStage({ timeout: 1, clock })]);
    let aborted = false;
    const value = await run(
      createContext((context) => {
        context.signal?.addEventListener('abort', () => {
          aborted = true;
        });
        return Promise.resolve('fast');
      }),
    );
    assert.equal(value, 'fast');
    await clock.advance(5000);
    assert.equal(aborted, false);
  });

  it('per attempt under a retry: each attempt its own deadline and signal, joined with the caller’s', async () => {
    const clock = new TimedClock();
    const retry = new RetryPolicy({ maxAttempts: 3, baseDelay: 0, jitter: false, sleep: async () => {} });
    const run = compose([retryStage(retry), timeoutStage({ timeout: 0.1, per: 'attempt', clock })]);
    const caller = new AbortController();
    const signals: AbortSignal[] = [];
    const result: { value?: unknown } = {};
    const context = createContext(
      (c) => {
        signals.push(c.signal as AbortSignal);
        return signals.length < 3 ? never() : Promise.resolve('third time');
      },
      [],
      { signal: caller.signal },
    );
    run(context).then((value) => {
      result.value = value;
    });
    await clock.advance(100);
    await clock.advance(100);
    await clock.advance(1);
    assert.equal(result.value, 'third time');
    assert.equal(signals.length, 3);
    assert.deepEqual(
      signals.map((s) => s.aborted),
      [true, true, false],
      'the first two timed out; the third has its own, live signal',
    );
    caller.abort(new Error('the caller gave up'));
    assert.equal(signals[2].aborted, true, "an attempt's signal follows the caller's");
  });

  it('refuses a timeout that is not positive, or an unknown `per`', () => {
    assert.throws(() => timeoutStage({ timeout: 0 }), /timeout must be > 0/);
    assert.throws(() => timeoutStage({ timeout: 1, per: 'request' as never }), /'call' or 'attempt'/);
  });
});
