import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CallTimeoutError,
  type CircuitBreakerOptions,
  CircuitBreakerPolicy,
  CircuitOpenError,
  type CircuitState,
  ManualClock,
} from '../../../lib/index.js';

const ok = () => Promise.resolve('ok');
const boom = () => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNREFUSED' }));

function breaker(options: CircuitBreakerOptions = {}, clock = new ManualClock(1_000_000)) {
  const changes: [CircuitState, CircuitState, string][] = [];
  const cb = new CircuitBreakerPolicy('svc', {
    clock,
    onStateChange: (a, b, n) => changes.push([a, b, n]),
    ...options,
  });
  return { cb, clock, changes };
}

async function fail(cb: CircuitBreakerPolicy, times = 1) {
  for (let i = 0; i < times; i++) await cb.execute(boom).catch(() => {});
}

/** A call that stays in flight until told how to end. */
function deferred() {
  let resolve!: (v: string) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { fn: () => promise, resolve, reject };
}

describe('circuit breaker state machine', () => {
  it('opens after failureThreshold consecutive failures, and a success resets the count', async () => {
    const { cb, changes } = breaker({ failureThreshold: 3 });
    await fail(cb, 2);
    await cb.execute(ok);
    await fail(cb, 2);
    assert.equal(cb.state, 'closed');
    await fail(cb);
    assert.equal(cb.state, 'open');
    assert.deepEqual(changes, [['closed', 'open', 'svc']]);
  });

  it('counts only expectedExceptions; other errors pass through uncounted', async () => {
    class Declined extends Error {}
    const { cb } = breaker({ failureThreshold: 2, expectedExceptions: ['ConnectionError'] });
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        cb.execute(() => Promise.reject(new Declined())),
        Declined,
      );
    }
    assert.equal(cb.state, 'closed');
    await fail(cb, 2);
    assert.equal(cb.state, 'open');
  });

  it('rejects while OPEN without calling, with retryAfter until the trial', async () => {
    const { cb, clock } = breaker({ failureThreshold: 1, timeout: 60 });
    await fail(cb);
    clock.advance(15_000);
    let called = false;
    const error = await cb
      .execute(() => {
        called = true;
        return ok();
      })
      .catch((e) => e);
    assert.equal(called, false);
    assert.ok(error instanceof CircuitOpenError);
    assert.equal(error.retryAfter, 45);
    assert.equal(error.circuit, 'svc');
  });

  it('moves to HALF_OPEN lazily after timeout and closes after successThreshold successes', async () => {
    const { cb, clock, changes } = breaker({ failureThreshold: 1, successThreshold: 2, timeout: '30s' });
    await fail(cb);
    clock.advance(29_999);
    assert.equal(cb.state, 'open');
    clock.advance(1);
    assert.equal(cb.state, 'half_open', 'an expired OPEN reads as HALF_OPEN');
    await cb.execute(ok);
    assert.equal(cb.state, 'half_open');
    await cb.execute(ok);
    assert.equal(cb.state, 'closed');
    assert.deepEqual(
      changes.map(([a, b]) => `${a}>${b}`),
      ['closed>open', 'open>half_open', 'half_open>closed'],
    );
  });

  it('re-opens on a failed trial', async () => {
    const { cb, clock } = breaker({ failureThreshold: 1, timeout: 10 });
    await fail(cb);
    clock.advance(10_000);
    await fail(cb);
    assert.equal(cb.state, 'open');
    assert.equal(cb.retryAfter, 10);
  });

  it('admits at most halfOpenMaxCalls trials at once and rejects the rest at once', async () => {
    const { cb, clock } = breaker({ failureThreshold: 1, timeout: 1, halfOpenMaxCalls: 2, successThreshold: 2 });
    await fail(cb);
    clock.advance(1000);
    const trials = [deferred(), deferred()];
    const running = trials.map((t) => cb.execute(t.fn));
    await assert.rejects(cb.execute(ok), CircuitOpenError);
    trials[0].resolve('a');
    await running[0];
    // One slot freed: one more trial may start.
    const third = deferred();
    const thirdRun = cb.execute(third.fn);
    await assert.rejects(cb.execute(ok), CircuitOpenError);
    trials[1].resolve('b');
    third.resolve('c');
    await Promise.all([running[1], thirdRun]);
    assert.equal(cb.state, 'closed');
  });

  it('ignores the result of a call admitted before the breaker opened', async () => {
    const { cb, clock } = breaker({ failureThreshold: 2, timeout: 10 });
    const slow = deferred();
    const slowRun = cb.execute(slow.fn);
    await fail(cb, 2);
    assert.equal(cb.state, 'open');
    clock.advance(10_000);
    const trial = deferred();
    const trialRun = cb.execute(trial.fn);
    slow.resolve('late'); // success from the CLOSED era: must not count as a trial success
    assert.equal(await slowRun, 'late');
    assert.equal(cb.state, 'half_open');
    assert.equal(cb.metrics().consecutiveSuccesses, 0);
    trial.reject(new Error('still down'));
    await trialRun.catch(() => {});
    assert.equal(cb.state, 'open');
  });

  it('ignores a stale failure after a close, so it does not count in the new window', async () => {
    const { cb, clock } = breaker({ failureThreshold: 1, successThreshold: 1, timeout: 1, halfOpenMaxCalls: 2 });
    await fail(cb);
    clock.advance(1000);
    const straggler = deferred();
    const stragglerRun = cb.execute(straggler.fn);
    await cb.execute(ok); // closes
    assert.equal(cb.state, 'closed');
    straggler.reject(new Error('old failure'));
    await stragglerRun.catch(() => {});
    assert.equal(cb.state, 'closed', 'a half-open trial ending after the close changes nothing');
  });

  it('does not let an uncounted error in HALF_OPEN hold the trial slot', async () => {
    const { cb, clock } = breaker({ failureThreshold: 1, timeout: 1, expectedExceptions: ['ConnectionError'] });
    await fail(cb);
    clock.advance(1000);
    await cb.execute(() => Promise.reject(new TypeError('bug'))).catch(() => {});
    assert.equal(cb.state, 'half_open');
    await cb.execute(ok);
    await cb.execute(ok);
    assert.equal(cb.state, 'closed');
  });

  it('grows the open time of a breaker that keeps re-opening, up to maxTimeout', async () => {
    const { cb, clock } = breaker({ failureThreshold: 1, timeout: 10, timeoutMultiplier: 2, maxTimeout: 35 });
    await fail(cb);
    const openTimes: number[] = [cb.retryAfter];
    for (let i = 0; i < 4; i++) {
      clock.advance(cb.retryAfter * 1000);
      await fail(cb); // failed trial
      openTimes.push(cb.retryAfter);
    }
    assert.deepEqual(openTimes, [10, 20, 35, 35, 35]);
    clock.advance(35_000);
    await cb.execute(ok);
    await cb.execute(ok);
    assert.equal(cb.state, 'closed');
    await fail(cb);
    assert.equal(cb.retryAfter, 10, 'a close resets the growth');
  });

  it('counts a result isResultFailure flags, and still returns it', async () => {
    const { cb } = breaker({ failureThreshold: 2, isResultFailure: (r) => (r as { status: number }).status >= 500 });
    const r = await cb.execute(() => ({ status: 503 }));
    assert.deepEqual(r, { status: 503 });
    await cb.execute(() => ({ status: 502 }));
    assert.equal(cb.state, 'open');
  });

  it('accepts plain values and synchronous throws', async () => {
    const { cb } = breaker({ failureThreshold: 1 });
    assert.equal(await cb.execute(() => 42), 42);
    await assert.rejects(
      cb.execute(() => {
        throw new Error('sync');
      }),
      /sync/,
    );
    assert.equal(cb.state, 'open');
  });

  it('uses the fallback on rejection and failure', async () => {
    const { cb } = breaker({ failureThreshold: 1, fallback: (e) => `fallback:${(e as Error).name}` });
    assert.equal(await cb.execute(boom), 'fallback:Error');
    assert.equal(await cb.execute(ok), 'fallback:CircuitOpenError');
  });

  it('keeps working when an onStateChange listener throws', async () => {
    const cb = new CircuitBreakerPolicy('x', {
      failureThreshold: 1,
      onStateChange: () => {
        throw new Error('listener bug');
      },
    });
    await fail(cb);
    assert.equal(cb.state, 'open');
  });

  it('forceOpen, forceClose, disable and reset', async () => {
    const { cb, clock } = breaker({ failureThreshold: 1, timeout: 1 });
    cb.forceOpen();
    clock.advance(3_600_000);
    await assert.rejects(cb.execute(ok), CircuitOpenError, 'forced open admits no trial');
    cb.forceClose();
    assert.equal(await cb.execute(ok), 'ok');
    cb.disable();
    await fail(cb, 10);
    assert.equal(cb.state, 'closed', 'a disabled breaker records nothing');
    cb.reset();
    await fail(cb);
    assert.equal(cb.state, 'open');
    cb.reset();
    assert.equal(cb.state, 'closed');
  });

  it('validates its options with clear errors', () => {
    assert.throws(
      () => new CircuitBreakerPolicy('x', { failureThreshold: 0 }),
      /failureThreshold must be an integer >= 1, got 0/,
    );
    assert.throws(
      () => new CircuitBreakerPolicy('x', { failureRateThreshold: 120 }),
      /failureRateThreshold must be > 0 and < 100/,
    );
    assert.throws(() => new CircuitBreakerPolicy('x', { slowCallRateThreshold: 50 }), /needs slowCallDuration/);
    assert.throws(() => new CircuitBreakerPolicy('x', { timeout: 'soon' }), /timeout: invalid duration/);
  });
});

describe('circuit breaker rate modes', () => {
  it('opens at the failure rate over a count window once minimumCalls is reached', async () => {
    const { cb } = breaker({ failureThreshold: 100, failureRateThreshold: 50, slidingWindowSize: 10, minimumCalls: 4 });
    await fail(cb, 3);
    assert.equal(cb.state, 'closed', 'below minimumCalls');
    await cb.execute(ok);
    assert.equal(cb.state, 'open', '3 of 4 = 75%, judged as the 4th call ends');
  });

  it('opens once the failure percentage exceeds the threshold (the guide: "open at >10%")', async () => {
    const { cb } = breaker({ failureThreshold: 100, failureRateThreshold: 50, slidingWindowSize: 4, minimumCalls: 4 });
    await cb.execute(ok);
    await cb.execute(ok);
    await fail(cb);
    assert.equal(cb.state, 'closed');
    await fail(cb); // 2 of 4 = 50%: at the threshold, not above it
    assert.equal(cb.state, 'closed');
    await fail(cb); // the first ok slid out: 3 of 4
    assert.equal(cb.state, 'open');
  });

  it('forgets outcomes that slid out of a count window', async () => {
    const { cb } = breaker({ failureThreshold: 100, failureRateThreshold: 50, slidingWindowSize: 4, minimumCalls: 4 });
    await fail(cb);
    for (let i = 0; i < 4; i++) await cb.execute(ok); // the failure slides out
    await fail(cb);
    assert.equal(cb.metrics().failures, 1);
    assert.equal(cb.state, 'closed');
  });

  it('forgets failures older than a time window', async () => {
    const { cb, clock } = breaker({
      failureThreshold: 100,
      failureRateThreshold: 50,
      slidingWindowType: 'time',
      slidingWindowSize: 10,
      minimumCalls: 2,
    });
    await fail(cb);
    clock.advance(10_000);
    assert.equal(cb.metrics().calls, 0);
    await cb.execute(ok);
    await cb.execute(ok);
    await fail(cb);
    assert.equal(cb.state, 'closed', '1 of 3');
    await fail(cb);
    assert.equal(cb.state, 'closed', '2 of 4: at 50%, not above');
    await fail(cb);
    assert.equal(cb.state, 'open', '3 of 5');
  });

  it('opens on the slow-call rate', async () => {
    const clock = new ManualClock(0);
    const cb = new CircuitBreakerPolicy('slow', {
      clock,
      slowCallDuration: '500ms',
      slowCallRateThreshold: 50,
      slidingWindowSize: 4,
      minimumCalls: 4,
    });
    const slowCall = () => {
      clock.advance(600);
      return 'done';
    };
    await cb.execute(ok);
    await cb.execute(ok);
    await cb.execute(slowCall);
    assert.equal(cb.state, 'closed');
    await cb.execute(slowCall);
    assert.equal(cb.state, 'closed', '2 of 4 slow: at 50%, not above');
    await cb.execute(slowCall);
    assert.equal(cb.state, 'open', '3 of 4 slow');
  });

  it('resets the window when the breaker closes', async () => {
    const { cb, clock } = breaker({
      failureThreshold: 100,
      failureRateThreshold: 50,
      slidingWindowSize: 10,
      minimumCalls: 2,
      timeout: 1,
      successThreshold: 1,
    });
    await fail(cb, 2);
    assert.equal(cb.state, 'open');
    clock.advance(1000);
    await cb.execute(ok);
    assert.equal(cb.state, 'closed');
    assert.equal(cb.metrics().calls, 0);
  });
});

describe('circuit breaker call timeout', () => {
  it('fails a call past callTimeout with CallTimeoutError and aborts its signal', async () => {
    const cb = new CircuitBreakerPolicy('t', { callTimeout: '30ms', failureThreshold: 1 });
    let signal: AbortSignal | undefined;
    // Like a real request: its socket keeps the process alive until the signal aborts it.
    const error = await cb
      .execute(({ signal: s }) => {
        signal = s;
        return new Promise((resolve) => {
          const socket = setTimeout(resolve, 10_000);
          s?.addEventListener('abort', () => clearTimeout(socket));
        });
      })
      .catch((e) => e);
    assert.ok(error instanceof CallTimeoutError);
    assert.equal(signal?.aborted, true);
    assert.equal(signal?.reason, error);
    assert.equal(cb.state, 'open', 'a timeout counts as a failure');
  });

  it('passes through a call that finishes in time', async () => {
    const cb = new CircuitBreakerPolicy('t', { callTimeout: 5 });
    assert.equal(await cb.execute(() => 'fast'), 'fast');
    assert.equal(await cb.execute(async () => 'fast async'), 'fast async');
  });
});

describe('circuit breaker snapshot', () => {
  it('round-trips state and window through JSON', async () => {
    const clock = new ManualClock(5_000);
    const options = { clock, failureRateThreshold: 50, slidingWindowSize: 6, minimumCalls: 6, failureThreshold: 100 };
    const a = new CircuitBreakerPolicy('a', options);
    await a.execute(ok);
    await fail(a, 2);
    const b = new CircuitBreakerPolicy('a', options);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    assert.deepEqual(b.metrics(), a.metrics());
    await fail(b);
    await b.execute(ok);
    assert.equal(b.state, 'closed', '3 of 5');
    await b.execute(ok);
    assert.equal(b.state, 'closed', '3 of 6 = 50%: not above');
    await fail(b);
    assert.equal(b.state, 'open', '4 of 6');
  });

  it('restores an open breaker with its remaining open time', async () => {
    const clock = new ManualClock(0);
    const a = new CircuitBreakerPolicy('a', { clock, failureThreshold: 1, timeout: 60 });
    await fail(a);
    clock.advance(20_000);
    const b = new CircuitBreakerPolicy('a', { clock, failureThreshold: 1, timeout: 60 });
    b.restore(a.snapshot());
    assert.equal(b.state, 'open');
    assert.equal(b.retryAfter, 40);
  });

  it('refuses a bad snapshot, naming the problems', () => {
    const cb = new CircuitBreakerPolicy('a', { failureRateThreshold: 50, slidingWindowSize: 10 });
    const good = cb.snapshot();
    assert.throws(
      () => cb.restore({ ...good, state: 'ajar' as never, consecutiveFailures: -1 }),
      /unknown state "ajar"; consecutiveFailures/,
    );
    assert.throws(
      () => cb.restore({ ...good, window: { ...(good.window as { type: 'count' }), size: 5 } as never }),
      /window is count\/5, this breaker has count\/10/,
    );
  });
});

describe('circuit breaker call timeout, late outcomes', () => {
  it('ignores the success of a call that already timed out', async () => {
    const cb = new CircuitBreakerPolicy('late', { callTimeout: '20ms', failureThreshold: 2 });
    let finish!: () => void;
    const late = cb
      .execute(
        () =>
          new Promise<string>((resolve) => {
            const keepAlive = setTimeout(() => {}, 1000);
            finish = () => {
              clearTimeout(keepAlive);
              resolve('late');
            };
          }),
      )
      .catch((e) => e);
    assert.ok((await late) instanceof CallTimeoutError);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(cb.metrics().consecutiveFailures, 1, 'the late success did not reset the count');
  });
});
