import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, it } from 'node:test';
import {
  compose,
  createContext,
  ExtraAttemptBudget,
  HedgeLostError,
  type HedgeOutcome,
  hedgeStage,
  LatencySketch,
  parsePercentile,
  type ResilienceContext,
  RetryPolicy,
} from '../../../lib/core/index.js';
import { percentile, seeded } from '../../support/overload-simulation.js';
import { TimedClock } from '../../support/timed-clock.js';

/** An operation whose attempts answer when the test says, each recording its signal. */
function controlled() {
  const attempts: { signal: AbortSignal; resolve(v: unknown): void; reject(e: unknown): void }[] = [];
  const operation = (context: ResilienceContext) =>
    new Promise((resolve, reject) => {
      attempts.push({ signal: context.signal as AbortSignal, resolve, reject });
    });
  return { attempts, operation };
}

describe('hedging on a clock with timers (exact)', () => {
  it('starts a second attempt after the delay; the first answer wins and the loser is aborted', async () => {
    const clock = new TimedClock();
    const outcomes: HedgeOutcome[] = [];
    const run = compose([hedgeStage({ delay: '100ms', clock, onHedge: (outcome) => outcomes.push(outcome) })]);
    const { attempts, operation } = controlled();
    const call = run(createContext(operation));
    await clock.advance(99);
    assert.equal(attempts.length, 1, 'no hedge before the delay');
    await clock.advance(1);
    assert.equal(attempts.length, 2, 'a hedge at the delay');
    attempts[1].resolve('from the hedge');
    assert.equal(await call, 'from the hedge');
    assert.ok(attempts[0].signal.aborted, 'the first attempt is aborted');
    assert.ok(attempts[0].signal.reason instanceof HedgeLostError);
    assert.equal(attempts[1].signal.aborted, false);
    assert.deepEqual(outcomes, ['started', 'won']);
  });

  it('starts no hedge when the first attempt answers in time, and keeps no timer pending', async () => {
    const clock = new TimedClock();
    const run = compose([hedgeStage({ delay: 0.1, clock })]);
    const { attempts, operation } = controlled();
    const call = run(createContext(operation));
    await clock.advance(50);
    attempts[0].resolve(1);
    assert.equal(await call, 1);
    await clock.advance(1000);
    assert.equal(attempts.length, 1);
  });

  it('starts at most maxHedged more, one per delay', async () => {
    const clock = new TimedClock();
    const run = compose([hedgeStage({ delay: '10ms', maxHedged: 2, clock })]);
    const { attempts, operation } = controlled();
    const call = run(createContext(operation));
    await clock.advance(10);
    assert.equal(attempts.length, 2);
    await clock.advance(10);
    assert.equal(attempts.length, 3);
    await clock.advance(100);
    assert.equal(attempts.length, 3);
    attempts[0].resolve('first');
    assert.equal(await call, 'first');
    assert.ok(attempts[1].signal.aborted && attempts[2].signal.aborted);
  });

  it('a handled failure starts the next attempt at once; the call fails with the last failure when none is left', async () => {
    const clock = new TimedClock();
    const run = compose([hedgeStage({ delay: '1s', maxHedged: 1, clock })]);
    const { attempts, operation } = controlled();
    const call = run(createContext(operation));
    attempts[0].reject(new Error('first failed'));
    await clock.advance(0);
    assert.equal(attempts.length, 2, 'the hedge starts without waiting for the delay');
    attempts[1].reject(new Error('second failed'));
    await assert.rejects(call, /second failed/);
  });

  it('a failure it does not handle ends the call at once', async () => {
    const clock = new TimedClock();
    const run = compose([hedgeStage({ delay: '10ms', clock, handle: (e) => (e as Error).message !== 'fatal' })]);
    const { attempts, operation } = controlled();
    const call = run(createContext(operation));
    await clock.advance(10);
    attempts[1].reject(new Error('fatal'));
    await assert.rejects(call, /fatal/);
    assert.ok(attempts[0].signal.aborted);
  });

  it('a failure while another attempt still runs waits for that attempt', async () => {
    const clock = new TimedClock();
    const run = compose([hedgeStage({ delay: '10ms', clock })]);
    const { attempts, operation } = controlled();
    const call = run(createContext(operation));
    await clock.advance(10);
    attempts[0].reject(new Error('first failed'));
    await clock.advance(0);
    attempts[1].resolve('second');
    assert.equal(await call, 'second');
  });

  it('the budget refuses hedges when most calls hedge, and says so', async () => {
    const clock = new TimedClock();
    const budget = new ExtraAttemptBudget({ ratio: 0.1, minPerSecond: 0, clock });
    const outcomes: HedgeOutcome[] = [];
    const run = compose([hedgeStage({ delay: '10ms', clock, budget, onHedge: (o) => outcomes.push(o) })]);
    const { attempts, operation } = controlled();
    const calls = Array.from({ length: 100 }, () => run(createContext(operation)));
    await clock.advance(10);
    for (const attempt of attempts) attempt.resolve('slow');
    await Promise.all(calls);
    assert.equal(outcomes.filter((o) => o === 'started').length, 10, '10% of 100 calls');
    assert.equal(outcomes.filter((o) => o === 'budget_exhausted').length, 90);
    assert.equal(attempts.length, 110);
  });

  it("a percentile delay follows the operation's latencies, and starts no hedge before it has samples", async () => {
    const clock = new TimedClock();
    const run = compose([hedgeStage({ delay: 'p90', clock })]);
    const { attempts, operation } = controlled();
    for (let i = 0; i < 20; i++) {
      const call = run(createContext(operation));
      await clock.advance(1000);
      assert.equal(attempts.length, i + 1, 'no hedge before 20 samples');
      attempts[i].resolve(i);
      await call;
    }
    // The sketch now holds 20 samples of 1000 ms: the delay is 1000 ms.
    const call = run(createContext(operation));
    await clock.advance(999);
    assert.equal(attempts.length, 21);
    await clock.advance(1);
    assert.equal(attempts.length, 22);
    attempts[21].resolve('hedge');
    assert.equal(await call, 'hedge');
  });

  it("a hedge runs in its own call's async context, whichever call armed the shared timer", async () => {
    const clock = new TimedClock();
    const store = new AsyncLocalStorage<string>();
    const run = compose([hedgeStage({ delay: '10ms', clock })]);
    const seen: (string | undefined)[] = [];
    const pending: (() => void)[] = [];
    const operation = () => {
      seen.push(store.getStore());
      return new Promise((resolve) => pending.push(() => resolve('done')));
    };
    const a = store.run('A', () => run(createContext(operation)));
    await clock.advance(5);
    const b = store.run('B', () => run(createContext(operation)));
    await clock.advance(10);
    assert.deepEqual(seen, ['A', 'B', 'A', 'B'], 'each hedge sees its own call');
    for (const resolve of pending) resolve();
    assert.deepEqual(await Promise.all([a, b]), ['done', 'done']);
  });

  it('refuses settings that make no sense, naming them', () => {
    assert.throws(() => hedgeStage({ delay: 'p100' as 'p95' }), /delay "p100" is not a percentile/);
    assert.throws(() => hedgeStage({ delay: '10ms', maxHedged: 0 }), /maxHedged must be an integer >= 1/);
    assert.throws(() => hedgeStage({ delay: -1 }), /delay/);
  });
});

describe('the latency sketch', () => {
  it('gives the percentile of its recent samples and forgets old ones', () => {
    const sketch = new LatencySketch(parsePercentile('p95'), 64, 20);
    for (let i = 1; i <= 100; i++) sketch.record(i);
    // The ring holds 37..100; p95 of those is 97 (recomputed every 8 samples: at sample 96).
    const value = sketch.value() as number;
    assert.ok(value >= 93 && value <= 97, `p95 ${value}`);
    for (let i = 0; i < 64; i++) sketch.record(5);
    assert.equal(sketch.value(), 5);
  });
});

describe('the extra-attempt budget', () => {
  it('allows ratio x calls + minPerSecond x window over a sliding window', () => {
    let now = 0;
    const budget = new ExtraAttemptBudget({
      ratio: 0.2,
      minPerSecond: 1,
      windowSeconds: 10,
      clock: { now: () => now },
    });
    for (let i = 0; i < 100; i++) budget.recordCall();
    let granted = 0;
    while (budget.tryAcquire()) granted++;
    assert.equal(granted, 30, '20% of 100 calls + 1/s over 10 s');
    now += 10_000;
    assert.equal(budget.spent, 0, 'the window slid past them');
    for (let i = 0; i < 10; i++) assert.ok(budget.tryAcquire());
    assert.equal(budget.tryAcquire(), false);
    assert.equal(budget.refusals, 2);
  });
});

describe('one budget for retries and hedges', () => {
  it('retries spend the budget a hedge then finds empty, and a retry counts its calls', async () => {
    const clock = new TimedClock();
    const budget = new ExtraAttemptBudget({ ratio: 0.25, minPerSecond: 0, clock });
    const retry = new RetryPolicy({
      maxAttempts: 2,
      baseDelay: 0,
      jitter: false,
      budget,
      clock,
      sleep: async () => {},
    });
    assert.equal(retry.sharedBudget, budget);
    assert.equal(retry.budget, undefined, 'the token bucket stays its own field');
    for (let i = 0; i < 3; i++) await retry.execute(() => 'ok');
    // The fourth call earns the budget its first whole extra attempt; its retry spends it.
    let runs = 0;
    await retry.execute(() => (++runs === 1 ? Promise.reject(new Error('once')) : 'ok'));
    assert.equal(runs, 2);
    assert.equal(budget.spent, 1);
    const outcomes: HedgeOutcome[] = [];
    const run = compose([hedgeStage({ delay: '10ms', clock, budget, onHedge: (o) => outcomes.push(o) })]);
    const { attempts, operation } = controlled();
    const first = run(createContext(operation));
    await clock.advance(10);
    assert.deepEqual(outcomes, ['budget_exhausted'], '5 calls x 0.25 = 1.25: the retry took the one');
    attempts[0].resolve('a');
    await first;
    for (let i = 0; i < 3; i++) await retry.execute(() => 'ok');
    const second = run(createContext(operation));
    await clock.advance(10);
    assert.deepEqual(outcomes, ['budget_exhausted', 'started'], '9 calls x 0.25 = 2.25: room for a second');
    attempts[2].resolve('b');
    await second;
  });
});

describe('hedging across a matrix of tails and background errors (virtual time)', () => {
  /** Sequential calls on a clock with timers; latencies from a seeded draw. Returns latencies and attempts made. */
  async function run(options: { hedge: boolean; slowShare: number; errorShare: number; seed: number }) {
    const clock = new TimedClock();
    const random = seeded(options.seed);
    let attempts = 0;
    const operation = () => {
      attempts++;
      const draw = random();
      const failsFast = random() < options.errorShare;
      const ms = draw < options.slowShare ? 1000 : 8 + 4 * random();
      return new Promise((resolve, reject) =>
        clock.timers.setTimeout(() => (failsFast ? reject(new Error('500')) : resolve('ok')), failsFast ? 2 : ms),
      );
    };
    const pipeline = compose(options.hedge ? [hedgeStage({ delay: 'p95', clock })] : []);
    const latencies: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const started = clock.now();
      let done = false;
      pipeline(createContext(operation))
        .catch(() => {})
        .finally(() => {
          done = true;
        });
      while (!done) await clock.advance(1);
      latencies.push(clock.now() - started);
    }
    return { latencies, extra: attempts / 3000 - 1 };
  }

  it("at 'p95' the p99 falls at least 5x, for at most 5% extra attempts over the errors themselves", async (t) => {
    const rows: string[] = [];
    // Tails rarer than 5% (a p95 delay cannot help a tail of 5% or more), well above 1% so the p99 is a slow answer.
    for (const slowShare of [0.015, 0.03]) {
      for (const errorShare of [0, 0.02]) {
        const seed = Math.round(slowShare * 1e4 + errorShare * 1e3);
        const plain = await run({ hedge: false, slowShare, errorShare, seed });
        const hedged = await run({ hedge: true, slowShare, errorShare, seed });
        const p99 = (values: number[]) => percentile(values, 99);
        const row = `${slowShare * 100}% slow, ${errorShare * 100}% errors: p99 ${p99(plain.latencies)} -> ${p99(hedged.latencies)} ms, extra ${(hedged.extra * 100).toFixed(1)}%`;
        rows.push(row);
        assert.ok(p99(plain.latencies) / p99(hedged.latencies) >= 5, row);
        // A failed first attempt is hedged at once (it is a handled failure): those hedges come on top.
        assert.ok(hedged.extra <= 0.05 + errorShare + 0.005, row);
      }
    }
    t.diagnostic(rows.join('; '));
  });
});
