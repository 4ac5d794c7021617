import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attemptsOf,
  backoffDelay,
  CircuitOpenError,
  ManualClock,
  parseRetryAfter,
  plainDelay,
  RateLimitExceededError,
  RetryBudget,
  type RetryOptions,
  RetryPolicy,
} from '../../../lib/index.js';

/** A policy whose waits are recorded (in seconds) instead of slept, and whose clock follows them. */
function recorded(options: RetryOptions = {}) {
  const waits: number[] = [];
  const clock = new ManualClock(0);
  const policy = new RetryPolicy({
    clock,
    sleep: async (ms) => {
      waits.push(ms / 1000);
      clock.advance(ms);
    },
    ...options,
  });
  return { policy, waits, clock };
}

/** An operation failing `failures` times with `error`, then returning 'ok'. */
function flaky(
  failures: number,
  error: () => unknown = () => Object.assign(new Error('transient'), { code: 'ECONNRESET' }),
) {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls <= failures) throw error();
    return 'ok';
  };
  return { fn, calls: () => calls };
}

const round = (xs: number[]) => xs.map((x) => Math.round(x * 1e6) / 1e6);

describe('retry schedules (guide)', () => {
  it('exponential: baseDelay, baseDelay*2^1, baseDelay*2^2, ...', async () => {
    const { policy, waits } = recorded({ maxAttempts: 5, baseDelay: 1, jitter: false });
    const op = flaky(4);
    assert.equal(await policy.execute(op.fn), 'ok');
    assert.deepEqual(waits, [1, 2, 4, 8]);
    assert.equal(op.calls(), 5);
  });

  it('linear (base 1) and aggressive (base 3, capped at maxDelay)', async () => {
    const linear = recorded({ maxAttempts: 5, baseDelay: 2, exponentialBase: 1, jitter: false });
    await linear.policy.execute(flaky(4).fn);
    assert.deepEqual(linear.waits, [2, 2, 2, 2]);
    const aggressive = recorded({ maxAttempts: 6, baseDelay: 0.5, exponentialBase: 3, maxDelay: 30, jitter: false });
    await aggressive.policy.execute(flaky(5).fn);
    assert.deepEqual(aggressive.waits, [0.5, 1.5, 4.5, 13.5, 30]);
  });

  it('caps every wait at maxDelay and never yields NaN, however many attempts', () => {
    const o = { baseDelayMs: 1000, maxDelayMs: 60_000, exponentialBase: 2 };
    for (const attempt of [2, 10, 1025, 1_000_000]) {
      const d = plainDelay(attempt, o);
      assert.ok(Number.isFinite(d) && d > 0 && d <= 60_000, `attempt ${attempt}: ${d}`);
    }
    for (const jitter of [true, 'full', 'equal', 'decorrelated', 0.3] as const) {
      const d = backoffDelay(5000, 60_000, { ...o, jitter, random: () => 0 });
      assert.ok(Number.isFinite(d) && d > 0 && d <= 60_000, `${jitter}: ${d}`);
    }
  });

  it("jitter true is the guide's ±10%", async () => {
    const low = recorded({ maxAttempts: 3, baseDelay: 1, jitter: true, random: () => 0 });
    await low.policy.execute(flaky(2).fn);
    assert.deepEqual(round(low.waits), [0.9, 1.8]);
    const high = recorded({ maxAttempts: 3, baseDelay: 1, jitter: true, random: () => 0.999999 });
    await high.policy.execute(flaky(2).fn);
    assert.deepEqual(round(high.waits), [1.1, 2.2]);
    assert.ok(
      high.waits.every((w, i) => w < [1.1, 2.2][i]),
      'just under +10%',
    );
  });

  it('a jitter ratio, full, equal and decorrelated', async () => {
    const ratio = recorded({ maxAttempts: 2, baseDelay: 10, jitter: 0.2, random: () => 0 });
    await ratio.policy.execute(flaky(1).fn);
    assert.deepEqual(ratio.waits, [8]);
    const full = recorded({ maxAttempts: 3, baseDelay: 1, jitter: 'full', random: () => 0.25 });
    await full.policy.execute(flaky(2).fn);
    assert.deepEqual(full.waits, [0.75, 1.5]);
    const fullAtZero = recorded({ maxAttempts: 2, baseDelay: 1, jitter: 'full', random: () => 0 });
    await fullAtZero.policy.execute(flaky(1).fn);
    assert.deepEqual(fullAtZero.waits, [1], 'full jitter never waits zero');
    const equal = recorded({ maxAttempts: 3, baseDelay: 1, jitter: 'equal', random: () => 0.5 });
    await equal.policy.execute(flaky(2).fn);
    assert.deepEqual(equal.waits, [0.75, 1.5]);
    // decorrelated: min(cap, U(base, prev * 3)), prev starting at base.
    const decorrelated = recorded({
      maxAttempts: 5,
      baseDelay: 1,
      maxDelay: 10,
      jitter: 'decorrelated',
      random: () => 1 - 2 ** -52,
    });
    await decorrelated.policy.execute(flaky(4).fn);
    assert.deepEqual(round(decorrelated.waits), [3, 9, 10, 10]);
  });
});

describe('jitter statistics', () => {
  const d = 4000;
  const samples = (jitter: RetryOptions['jitter']) =>
    Array.from({ length: 20_000 }, () =>
      backoffDelay(4, 0, {
        baseDelayMs: 1000,
        maxDelayMs: 60_000,
        exponentialBase: 2,
        jitter: jitter ?? true,
        random: Math.random,
      }),
    );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const stdev = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

  it('±10% stays within bounds, centred, and spread like a uniform', () => {
    const xs = samples(true);
    assert.ok(xs.every((x) => x >= 0.9 * d && x <= 1.1 * d));
    assert.ok(Math.abs(mean(xs) - d) < 0.005 * d, `mean ${mean(xs)}`);
    const expected = (0.2 * d) / Math.sqrt(12);
    assert.ok(Math.abs(stdev(xs) - expected) < 0.05 * expected, `stdev ${stdev(xs)} vs ${expected}`);
  });

  it('full jitter covers (0, d] with mean d/2; equal covers [d/2, d] with mean 3d/4', () => {
    const full = samples('full');
    assert.ok(full.every((x) => x > 0 && x <= d));
    assert.ok(Math.abs(mean(full) - d / 2) < 0.02 * d);
    assert.ok(Math.min(...full) < 0.01 * d && Math.max(...full) > 0.99 * d, 'spreads over the whole range');
    const equal = samples('equal');
    assert.ok(equal.every((x) => x >= d / 2 && x <= d));
    assert.ok(Math.abs(mean(equal) - 0.75 * d) < 0.02 * d);
  });
});

describe('what is retried', () => {
  it('retries transient errors and not those that cannot succeed', async () => {
    const status = (s: number) => () => Object.assign(new Error(`HTTP ${s}`), { status: s });
    for (const [code, retried] of [
      [503, true],
      [500, true],
      [429, true],
      [408, true],
      [404, false],
      [400, false],
      [401, false],
    ] as const) {
      const { policy } = recorded({ maxAttempts: 2, jitter: false });
      const op = flaky(1, status(code));
      const outcome = await policy.execute(op.fn).catch((e) => e);
      assert.equal(op.calls(), retried ? 2 : 1, `HTTP ${code}`);
      assert.equal(outcome === 'ok', retried);
    }
    const validation = flaky(1, () => Object.assign(new Error('bad'), { name: 'ValidationError' }));
    await recorded()
      .policy.execute(validation.fn)
      .catch(() => {});
    assert.equal(validation.calls(), 1);
  });

  it('retries only retryableExceptions when given, or what retryIf says', async () => {
    const { policy } = recorded({ retryableExceptions: ['TimeoutError'], jitter: false });
    const refused = flaky(1);
    await policy.execute(refused.fn).catch(() => {});
    assert.equal(refused.calls(), 1);
    const timeout = flaky(1, () => Object.assign(new Error('t'), { code: 'ETIMEDOUT' }));
    assert.equal(await policy.execute(timeout.fn), 'ok');
    const byPredicate = recorded({ retryIf: (e, attempt) => (e as Error).message === 'again' && attempt < 2 });
    const op = flaky(5, () => new Error('again'));
    await byPredicate.policy.execute(op.fn).catch(() => {});
    assert.equal(op.calls(), 2);
  });

  it('retries results retryOnResult flags, returning the last one when attempts run out', async () => {
    let n = 0;
    const { policy, waits } = recorded({
      maxAttempts: 3,
      jitter: false,
      retryOnResult: (r) => (r as { status: number }).status === 503,
    });
    const result = await policy.execute(async () => ({ status: ++n < 3 ? 503 : 200 }));
    assert.deepEqual(result, { status: 200 });
    assert.deepEqual(waits, [1, 2]);
    const always = recorded({ maxAttempts: 2, jitter: false, retryOnResult: () => true });
    assert.deepEqual(await always.policy.execute(() => ({ status: 503 })), { status: 503 });
  });

  it('does not retry an open breaker that opens longer than maxDelay, and waits for one that does not', async () => {
    const long = recorded({ maxDelay: 10 });
    const op = flaky(1, () => new CircuitOpenError('pay', 60));
    await long.policy.execute(op.fn).catch(() => {});
    assert.equal(op.calls(), 1);
    const short = recorded({ maxDelay: 10 });
    assert.equal(await short.policy.execute(flaky(1, () => new RateLimitExceededError({ retryAfter: 3 })).fn), 'ok');
    assert.deepEqual(short.waits, [3]);
  });
});

describe('Retry-After', () => {
  it('parses seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120);
    assert.equal(parseRetryAfter(' 7 ', now), 7);
    assert.equal(parseRetryAfter('Sat, 28 Nov 2026 12:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now), 0, 'a past date means now');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(-1, now), undefined);
  });

  it('sets the next wait from the error, capped by maxDelay, in every carrier form', async () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    const carriers: [string, () => unknown, number][] = [
      ['our retryAfter', () => new RateLimitExceededError({ retryAfter: 5 }), 5],
      ['error.headers', () => Object.assign(new Error('429'), { status: 429, headers: { 'Retry-After': '7' } }), 7],
      [
        'fetch Response headers (date)',
        () =>
          Object.assign(new Error('503'), {
            response: { status: 503, headers: new Headers({ 'retry-after': 'Sat, 28 Nov 2026 12:00:12 GMT' }) },
          }),
        12,
      ],
      [
        'axios-style array header',
        () => Object.assign(new Error('503'), { response: { status: 503, headers: { 'retry-after': ['9'] } } }),
        9,
      ],
      [
        'beyond maxDelay',
        () => Object.assign(new Error('503'), { status: 503, headers: { 'retry-after': '3600' } }),
        20,
      ],
    ];
    for (const [what, error, expected] of carriers) {
      const { policy, waits, clock } = recorded({ maxAttempts: 2, maxDelay: 20, jitter: false });
      clock.set(now);
      await policy.execute(flaky(1, error).fn);
      assert.deepEqual(waits, [expected], what);
    }
  });
});

describe('giving up', () => {
  it('rethrows the last error unchanged, with the attempt count', async () => {
    class PaymentDeclined extends Error {}
    const errors: Error[] = [];
    const { policy } = recorded({ maxAttempts: 3, retryIf: () => true });
    const caught = await policy
      .execute(async () => {
        const e = new PaymentDeclined(`try ${errors.length + 1}`);
        errors.push(e);
        throw e;
      })
      .catch((e) => e);
    assert.ok(caught instanceof PaymentDeclined);
    assert.equal(caught, errors[2]);
    assert.equal((caught as { attempts?: number }).attempts, 3);
    assert.equal(attemptsOf(caught), 3);
    const frozen = Object.freeze(new Error('frozen'));
    const again = await recorded({ maxAttempts: 2, retryIf: () => true })
      .policy.execute(() => Promise.reject(frozen))
      .catch((e) => e);
    assert.equal(again, frozen);
    assert.equal(attemptsOf(frozen), 2, 'a frozen error still reports its attempts');
  });

  it('stops at maxTotalDelay and at the deadline', async () => {
    const total = recorded({ maxAttempts: 10, baseDelay: 1, jitter: false, maxTotalDelay: 7 });
    const op = flaky(9);
    await total.policy.execute(op.fn).catch(() => {});
    assert.deepEqual(total.waits, [1, 2, 4], 'the next wait (8 s) would pass 7 s in all');
    const deadline = recorded({ maxAttempts: 10, baseDelay: 1, jitter: false, deadline: '5s' });
    let calls = 0;
    await deadline.policy
      .execute(async () => {
        calls++;
        deadline.clock.advance(500); // each attempt takes 0.5 s
        throw new Error('slow failure');
      })
      .catch(() => {});
    // t=0.5 wait 1 -> t=2 wait 2 -> t=4.5, the next wait (4 s) would end at 8.5 > 5
    assert.deepEqual(deadline.waits, [1, 2]);
    assert.equal(calls, 3);
  });

  it('reports each retry and the completion', async () => {
    const events: unknown[] = [];
    const completions: [number, boolean][] = [];
    const { policy } = recorded({
      maxAttempts: 3,
      jitter: false,
      onRetry: (e) => events.push({ attempt: e.attempt, delay: e.delay }),
      onComplete: (attempts, ok) => completions.push([attempts, ok]),
    });
    await policy.execute(flaky(2).fn);
    await policy.execute(flaky(0).fn);
    await policy.execute(flaky(5).fn).catch(() => {});
    assert.deepEqual(events.slice(0, 2), [
      { attempt: 2, delay: 1 },
      { attempt: 3, delay: 2 },
    ]);
    assert.deepEqual(completions, [
      [3, true],
      [1, true],
      [3, false],
    ]);
  });
});

describe('retry budget', () => {
  it('stops retrying when most calls fail, and recovers with successes', async () => {
    const budget = new RetryBudget(10, 1);
    const { policy } = recorded({ maxAttempts: 3, jitter: false, budget, retryIf: () => true });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('down');
    };
    for (let i = 0; i < 5; i++) await policy.execute(failing).catch(() => {});
    // 10 tokens, retries while > 5: failed attempts take 1 each.
    assert.ok(budget.available <= 5);
    calls = 0;
    await policy.execute(failing).catch(() => {});
    assert.equal(calls, 1, 'no retry while the budget is spent');
    for (let i = 0; i < 6; i++) await policy.execute(async () => 'ok');
    assert.ok(budget.canRetry(), 'successes refill the budget');
    calls = 0;
    await policy.execute(failing).catch(() => {});
    assert.ok(calls > 1, 'retries resume');
  });
});

describe('cancellation', () => {
  it('aborts a wait at once, clears its timer and rejects with the reason', async () => {
    const policy = new RetryPolicy({ maxAttempts: 5, baseDelay: 30, maxDelay: 60, jitter: false });
    const controller = new AbortController();
    const started = Date.now();
    let calls = 0;
    const pending = policy.execute(
      async () => {
        calls++;
        throw new Error('down');
      },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await assert.rejects(pending, /shutting down/);
    assert.ok(Date.now() - started < 1000, 'did not wait the 30 s backoff');
    assert.equal(calls, 1);
  });

  it('refuses to start with an aborted signal, and passes the signal to the operation', async () => {
    const aborted = AbortSignal.abort(new Error('already'));
    await assert.rejects(
      new RetryPolicy().execute(async () => 1, { signal: aborted }),
      /already/,
    );
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    await new RetryPolicy().execute(
      async ({ signal }) => {
        seen = signal;
      },
      { signal: controller.signal },
    );
    assert.equal(seen, controller.signal);
  });
});

describe('retry options', () => {
  it('validates them, naming the problem', () => {
    assert.throws(() => new RetryPolicy({ maxAttempts: 0 }), /maxAttempts must be an integer >= 1, got 0/);
    assert.throws(() => new RetryPolicy({ baseDelay: 10, maxDelay: 1 }), /maxDelay \(1000 ms\) must be >= baseDelay/);
    assert.throws(() => new RetryPolicy({ jitter: 2 }), /jitter ratio must be from 0 to 1/);
    assert.throws(() => new RetryPolicy({ budget: { maxTokens: 0, tokenRatio: 1 } }), /budget.maxTokens must be > 0/);
  });

  it('never sleeps on a first-try success, sync or async', async () => {
    const { policy, waits } = recorded();
    assert.equal(await policy.execute(() => 1), 1);
    assert.equal(await policy.execute(async () => 2), 2);
    assert.deepEqual(waits, []);
  });
});

describe('per-call attempt record and give-up hook', () => {
  it('records every failed attempt, first included, sync or async, and awaits beforeGiveUp before rethrowing', async () => {
    const { policy } = recorded({ maxAttempts: 3, jitter: false });
    for (const op of [
      flaky(5).fn,
      () => {
        throw new Error('sync');
      },
    ]) {
      const attempts: { attempt: number }[] = [];
      const order: string[] = [];
      await policy
        .execute(op, {
          attempts: attempts as never,
          beforeGiveUp: async (_error, made) => {
            await Promise.resolve();
            order.push(`gave up after ${made}`);
          },
        })
        .catch(() => order.push('rejected'));
      assert.deepEqual(
        attempts.map((a) => a.attempt),
        [1, 2, 3],
      );
      assert.deepEqual(order, ['gave up after 3', 'rejected']);
    }
  });
});
