import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AdaptiveLimit,
  type AdaptiveLimitSettings,
  aimdLaw,
  BulkheadPolicy,
  type CallOutcome,
  type CallSample,
  gradient2Law,
  isOverloadByDefault,
  type LawInput,
  ManualClock,
  RateLimitExceededError,
  SampleWindow,
  vegasLaw,
} from '../../../lib/core/index.js';
import { httpError } from '../../support/overload-simulation.js';

const flush = () => new Promise((resolve) => setImmediate(resolve));

function deferred<T = string>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const window = (rttMs: number, inFlight: number, extra: Partial<LawInput['window']> = {}) => ({
  rttMs,
  rttErrorMs: 0,
  inFlight,
  successes: 20,
  overloads: 0,
  timeouts: 0,
  ...extra,
});
const input = (limit: number, rttMs: number, inFlight = limit, loadedRttMs = rttMs): LawInput => ({
  limit,
  estimate: limit,
  window: window(rttMs, inFlight),
  loadedRttMs,
  noLoadRttMs: 10,
});

describe('what an adaptive limit counts as overload', () => {
  it('timeouts, 503, 429, 504 and another layer’s load shedding are overload; a 500, a 4xx or a business error is not', async () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const fetchTimeout = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' }),
    });
    for (const error of [timeout, fetchTimeout, httpError(503), httpError(429), httpError(504)]) {
      assert.equal(isOverloadByDefault(error, 10), true, String(error));
    }
    assert.equal(isOverloadByDefault(new RateLimitExceededError({ retryAfter: 1, limiter: 'downstream' }), 1), true);
    assert.equal(isOverloadByDefault(RateLimitExceededError.stackless({ retryAfter: 1 }), 1), true);
    for (const error of [httpError(500), httpError(404), httpError(400), new Error('insufficient funds')]) {
      assert.equal(isOverloadByDefault(error, 10), false, String(error));
    }
  });

  it('the bulkhead classifies each failure: 500s move nothing, a 503 multiplies the limit by backoffRatio, a user predicate overrides', async () => {
    const clock = new ManualClock(0);
    const make = (isOverload?: (error: unknown, latencyMs: number) => boolean) =>
      new BulkheadPolicy('dep', {
        // A window per call, no probe: each call moves the limit on its own.
        adaptive: {
          algorithm: 'aimd',
          initialLimit: 3,
          maxLimit: 50,
          minSamples: 1,
          minWindowMs: 0,
          maxWindowMs: 0,
          isOverload,
        },
        clock,
      });
    const failWith = async (bulkhead: BulkheadPolicy, error: unknown) => {
      const call = deferred();
      const pending = bulkhead.execute(() => call.promise);
      clock.advance(10);
      call.reject(error);
      await assert.rejects(pending);
      await flush();
    };
    // A window is complete when its calls have all ended (the bulkhead tells the limit of starts).
    const succeed = async (bulkhead: BulkheadPolicy, times = 2) => {
      for (let i = 0; i < times; i++) {
        const call = deferred();
        const pending = bulkhead.execute(() => call.promise);
        clock.advance(10);
        call.resolve('fine');
        await pending;
        await flush();
      }
    };
    const bulkhead = make();
    const reasons: string[] = [];
    bulkhead.onLimitChanged(({ reason, limit, previous }) => reasons.push(`${previous}->${limit} ${reason}`));
    await succeed(bulkhead);
    for (let i = 0; i < 20; i++) await failWith(bulkhead, httpError(500));
    await succeed(bulkhead);
    assert.equal(bulkhead.limit, 3, '20 fast 500s in a row move nothing');
    await failWith(bulkhead, httpError(503));
    assert.equal(bulkhead.limit, 2, 'a 503: x0.9, floored');
    assert.deepEqual(reasons, ['3->2 overload']);
    // A predicate that calls a slow 500 overload.
    const custom = make((_error, latencyMs) => latencyMs >= 10);
    await succeed(custom);
    await failWith(custom, httpError(500));
    assert.equal(custom.limit, 2);
  });
});

describe('adaptive limit laws', () => {
  it('aimd: x backoffRatio when latency exceeds the tolerance beyond noise, + sqrt(limit)/2 when used and unloaded, else holds', () => {
    const law = aimdLaw({ rttTolerance: 1.1, backoffRatio: 0.9 });
    assert.deepEqual(law(input(100, 10)), { estimate: 105, reason: 'growth' });
    assert.deepEqual(law(input(4, 10)), { estimate: 5, reason: 'growth' });
    assert.equal(law(input(100, 10, 40)), undefined, 'a limit less than half used does not grow');
    assert.deepEqual(law(input(100, 12)), { estimate: 90, reason: 'latency' });
    assert.equal(law(input(100, 12, 100, 10.5)), undefined, 'loaded only within noise: holds');
    assert.deepEqual(aimdLaw({ rttTolerance: 10, backoffRatio: 0.5, timeoutMs: 11 })(input(100, 12)), {
      estimate: 50,
      reason: 'latency',
    });
  });

  it('vegas: keeps the estimated queue between alpha and 2 alpha (alpha = min(3 log10 L, 5% of L), at least 0.5)', () => {
    const law = vegasLaw({ smoothing: 1 });
    // L=100: alpha = min(6, 5) = 5; rtt 10 -> queue 0: grow by a tenth; rtt 10/0.93 -> queue 7: hold; 10/0.8 -> queue 20: shrink to 100 - (20 - 7.5)
    assert.deepEqual(law(input(100, 10)), { estimate: 110, reason: 'growth' }, 'no queue at all: +10%');
    assert.equal(law(input(100, 10 / 0.93)), undefined);
    assert.deepEqual(law(input(100, 10 / 0.8)), { estimate: 87.5, reason: 'latency' });
    // L=6 over a capacity of 5: queue 1 = 2 alpha: holds (Netflix's thresholds of 3-6 calls would sit at 8-11)
    assert.equal(law(input(6, 12)), undefined);
    assert.deepEqual(law(input(7, 14)), { estimate: 5.75, reason: 'latency' });
  });

  it('gradient2: scales the limit by tolerance x no-load / latency (within [0.5, 1.5]), smoothed', () => {
    const law = gradient2Law({ rttTolerance: 1.1, smoothing: 0.5, queueSize: 0 });
    assert.deepEqual(law(input(100, 10)), { estimate: 105, reason: 'growth' });
    assert.deepEqual(law(input(100, 22)), { estimate: 75, reason: 'latency' });
    assert.equal(law(input(100, 11)), undefined, 'at the target');
  });
});

const settings = (extra: Partial<AdaptiveLimitSettings> = {}): AdaptiveLimitSettings => ({
  initialLimit: 20,
  minLimit: 1,
  maxLimit: 1000,
  law: vegasLaw({ smoothing: 1 }),
  rttTolerance: 1.1,
  backoffRatio: 0.9,
  probeIntervalMs: 30_000,
  probeSamples: 20,
  random: () => 0,
  minSamples: 10,
  minWindowMs: 100,
  maxWindowMs: 1000,
  ...extra,
});

describe('AdaptiveLimit', () => {
  it('measures the no-load latency at 3 calls at a time first, then starts at initialLimit and doubles while no queue shows', () => {
    const limit = new AdaptiveLimit(settings());
    const changes: string[] = [];
    const record = (sample: CallSample) => {
      const change = limit.record(sample);
      if (change) changes.push(`${change.limit} ${change.reason}`);
    };
    record({ at: 0, rttMs: 50, inFlight: 20, outcome: 'success' });
    assert.equal(limit.limit, 3);
    assert.equal(limit.state, 'probing');
    // 20 calls that started after the probe began, at 3 in flight, 10 ms each; then it waits 1.5 x the slowest.
    for (let i = 1; i <= 20; i++) record({ at: 10 + i, rttMs: 10, inFlight: 3, outcome: 'success' });
    record({ at: 50, rttMs: 10, inFlight: 3, outcome: 'success' });
    assert.equal(limit.noLoadRttMs, 10);
    assert.equal(limit.limit, 20);
    // A window (calls started over >= 100 ms, all ended) at the no-load latency that filled the limit: doubles.
    for (let at = 55; at <= 200; at += 5) record({ at, rttMs: 10, inFlight: 20, outcome: 'success' });
    assert.equal(limit.limit, 40);
    assert.deepEqual(changes, ['3 probe', '20 probe_end', '40 slow_start']);
  });

  it('property: the limit stays an integer within [minLimit, maxLimit], whatever the calls', () => {
    const sample = fc.record({
      gap: fc.integer({ min: 0, max: 200 }),
      rttMs: fc.double({ min: 0.01, max: 5000, noNaN: true }),
      inFlight: fc.integer({ min: 1, max: 500 }),
      outcome: fc.constantFrom<CallOutcome>('success', 'success', 'success', 'ignored', 'overload', 'timeout'),
    });
    const bounds = fc
      .tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 200 }))
      .map(([min, a, b]) => ({ minLimit: min, initialLimit: min + a, maxLimit: min + a + b }));
    const laws = [
      aimdLaw({ rttTolerance: 1.1, backoffRatio: 0.9 }),
      vegasLaw({ smoothing: 1 }),
      gradient2Law({ rttTolerance: 1.1, smoothing: 0.5, queueSize: 4 }),
    ];
    fc.assert(
      fc.property(bounds, fc.array(sample, { maxLength: 400 }), fc.integer({ min: 0, max: 2 }), (b, samples, which) => {
        const limit = new AdaptiveLimit(
          settings({ ...b, law: laws[which], minSamples: 3, minWindowMs: 10, probeIntervalMs: 500 }),
        );
        let at = 0;
        for (const s of samples) {
          at += s.gap;
          limit.record({ at, rttMs: s.rttMs, inFlight: s.inFlight, outcome: s.outcome });
          assert.ok(Number.isInteger(limit.limit), `${limit.limit} is not an integer`);
          assert.ok(
            limit.limit >= b.minLimit && limit.limit <= b.maxLimit,
            `${limit.limit} outside [${b.minLimit}, ${b.maxLimit}]`,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: failures that are not overload never move the limit (inserted anywhere, the limit moves exactly as without them)', () => {
    const calls = fc.array(
      fc.record({
        gap: fc.integer({ min: 0, max: 50 }),
        rttMs: fc.integer({ min: 5, max: 80 }),
        inFlight: fc.integer({ min: 1, max: 60 }),
      }),
      { maxLength: 300 },
    );
    fc.assert(
      fc.property(calls, fc.array(fc.nat(), { maxLength: 100 }), (list, positions) => {
        const plain = new AdaptiveLimit(settings({ minSamples: 3, minWindowMs: 10 }));
        const noisy = new AdaptiveLimit(settings({ minSamples: 3, minWindowMs: 10 }));
        const inserted = new Set(positions.map((p) => (list.length === 0 ? 0 : p % list.length)));
        let at = 0;
        list.forEach((call, index) => {
          at += call.gap;
          if (inserted.has(index)) {
            for (let k = 0; k < 5; k++) noisy.record({ at, rttMs: 1, inFlight: call.inFlight, outcome: 'ignored' });
          }
          plain.record({ at, rttMs: call.rttMs, inFlight: call.inFlight, outcome: 'success' });
          noisy.record({ at, rttMs: call.rttMs, inFlight: call.inFlight, outcome: 'success' });
          assert.equal(noisy.limit, plain.limit);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('a window with an overload answer or a timeout multiplies the limit by backoffRatio and ends slow start', () => {
    const limit = new AdaptiveLimit(settings({ initialLimit: 3, minSamples: 3 }));
    const changes: string[] = [];
    const record = (sample: CallSample) => {
      const change = limit.record(sample);
      if (change) changes.push(`${change.limit} ${change.reason}`);
    };
    // initialLimit 3: no start probe; the first window's latency is the no-load latency, then windows
    // that fill the limit at that latency double it.
    for (let at = 10; at <= 400; at += 5) record({ at, rttMs: 10, inFlight: limit.limit, outcome: 'success' });
    assert.equal(limit.state, 'slow_start');
    const grown = limit.limit;
    assert.ok(grown >= 6, `grew to ${grown}`);
    // A window (>= 100 ms of starts, >= 3 calls) with one timeout among its calls.
    record({ at: 402, rttMs: 10, inFlight: 2, outcome: 'timeout' });
    for (let at = 405; at <= 600 && limit.state === 'slow_start'; at += 5) {
      record({ at, rttMs: 10, inFlight: limit.limit, outcome: 'success' });
    }
    assert.equal(limit.state, 'steady');
    assert.equal(limit.limit, Math.floor(grown * 0.9));
    assert.equal(changes.at(-1), `${Math.floor(grown * 0.9)} timeout`);
  });

  it('windows gather calls by when they started, and report once those have ended (no bias to the fast ones)', () => {
    const w = new SampleWindow({ minWindowMs: 100, maxWindowMs: 1000, minSamples: 3 });
    // Calls started from 0 on; the window closes to new starts after 100 ms with >= 3 calls.
    assert.equal(w.add({ at: 20, rttMs: 20, inFlight: 1, outcome: 'success' }), undefined);
    assert.equal(w.add({ at: 60, rttMs: 40, inFlight: 4, outcome: 'success' }), undefined);
    assert.equal(w.add({ at: 80, rttMs: 30, inFlight: 2, outcome: 'ignored' }), undefined, 'ignored: in no window');
    assert.equal(
      w.add({ at: 110, rttMs: 20, inFlight: 3, outcome: 'success' }),
      undefined,
      'closes to new starts at 110',
    );
    // A slow call that started at 100 (before the close) still counts; the window waits 1.5 x 40 ms after the close.
    assert.equal(w.add({ at: 160, rttMs: 60, inFlight: 2, outcome: 'success' }), undefined);
    assert.equal(
      w.add({ at: 165, rttMs: 10, inFlight: 9, outcome: 'success' }),
      undefined,
      'started at 155: after the close',
    );
    const done = w.add({ at: 300, rttMs: 5, inFlight: 1, outcome: 'success' });
    assert.equal(done?.rttMs, 35);
    assert.equal(done?.inFlight, 4);
    assert.equal(done?.successes, 4);
  });
});
