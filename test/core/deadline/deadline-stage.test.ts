import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compose,
  createContext,
  DEFAULT_DEADLINE_HEADERS,
  DeadlineExceededError,
  deadlineStage,
  isPermanentError,
  parseGrpcTimeout,
  type ResilienceContext,
  RetryPolicy,
  remainingFromHeaders,
  remainingOfRpc,
  retryStage,
} from '../../../lib/core/index.js';
import { TimedClock } from '../../support/timed-clock.js';

const never = (context: ResilienceContext) =>
  new Promise((_, reject) => context.signal?.addEventListener('abort', () => reject(context.signal?.reason)));

describe('the deadline stage, on a clock with timers (exact)', () => {
  it('refuses a call whose deadline has passed before anything inside runs', async () => {
    const clock = new TimedClock();
    await clock.advance(1000);
    let ran = false;
    const run = compose([deadlineStage({ clock })]);
    const context = createContext(() => (ran = true), [], { deadline: 900 });
    await assert.rejects(run(context), (e) => e instanceof DeadlineExceededError && e.lateBy === 100);
    assert.equal(ran, false);
    assert.equal(context.rejectedBy, 'deadline_exceeded');
  });

  it('fails the call at its deadline and aborts its signal with the same error', async () => {
    const clock = new TimedClock();
    const run = compose([deadlineStage({ clock, deadlineOf: (_c, clock) => clock.now() + 200 })]);
    const context = createContext(never);
    const call = run(context);
    let settled = false;
    call.catch(() => {}).finally(() => (settled = true));
    await clock.advance(199);
    assert.equal(settled, false);
    await clock.advance(1);
    await assert.rejects(call, DeadlineExceededError);
    assert.ok(context.signal?.aborted && context.signal.reason instanceof DeadlineExceededError);
    assert.equal(context.deadline, 200);
  });

  it("the earliest of the caller's deadline and its own wins", async () => {
    const clock = new TimedClock();
    const run = compose([deadlineStage({ clock, deadlineOf: (_c, clock) => clock.now() + 500 })]);
    const context = createContext(never, [], { deadline: 300 });
    const refused = assert.rejects(run(context), DeadlineExceededError);
    await clock.advance(300);
    await refused;
  });

  it('no retry starts whose wait and attempt cannot end before the deadline', async () => {
    const clock = new TimedClock();
    const sleep = (ms: number) => clock.advance(ms);
    // Each attempt takes 40 ms and fails; waits of 50 ms; 10 attempts allowed; a deadline at 250 ms.
    const policy = new RetryPolicy({
      maxAttempts: 10,
      baseDelay: 0.05,
      jitter: false,
      exponentialBase: 1,
      clock,
      sleep,
    });
    const started: number[] = [];
    const attempt = async () => {
      started.push(clock.now());
      await clock.advance(40);
      throw new Error('down');
    };
    const run = compose([deadlineStage({ clock, deadlineOf: (_c, clock) => clock.now() + 250 }), retryStage(policy)]);
    await assert.rejects(run(createContext(attempt)), /down/);
    // Attempts at 0, 90, 180: a fourth would start at 270, past the deadline; stopped at 220 instead.
    assert.deepEqual(started, [0, 90, 180]);
  });

  it('a passed deadline is a cancellation: never retried, never a dependency failure', () => {
    assert.equal(isPermanentError(new DeadlineExceededError()), true);
  });
});

describe('reading a deadline from headers', () => {
  const now = 1_700_000_000_000;
  const read = (headers: Record<string, unknown>) => remainingFromHeaders(headers, now, DEFAULT_DEADLINE_HEADERS);

  it('reads a relative timeout and an absolute deadline, the earlier one winning', () => {
    assert.equal(read({ 'x-request-timeout-ms': '250' }), 250);
    assert.equal(read({ 'x-request-deadline': String(now + 400) }), 400);
    assert.equal(read({ 'x-request-timeout-ms': '250', 'x-request-deadline': String(now + 100) }), 100);
    assert.equal(read({ 'x-request-deadline': String(now - 5) }), -5, 'passed');
  });

  it('ignores or clamps hostile values, never extending past max', () => {
    for (const value of ['-5', 'soon', '1e9', '0x10', '12.5', '', ' ', 'Infinity', 'NaN', '0']) {
      assert.equal(read({ 'x-request-timeout-ms': value }), undefined, `relative ${JSON.stringify(value)}`);
    }
    assert.equal(read({ 'x-request-timeout-ms': ['100', '200'] }), undefined, 'a repeated header');
    assert.equal(read({ 'x-request-timeout-ms': '99999999999999999999' }), 60_000, 'a huge number, clamped');
    assert.equal(read({ 'x-request-timeout-ms': '9'.repeat(400) }), undefined, 'too long to read');
    assert.equal(read({ 'x-request-timeout-ms': '86400000' }), 60_000, 'a day, clamped to max');
    assert.equal(read({ 'x-request-deadline': String(now + 10 * 86_400_000) }), 60_000, 'far future, clamped');
    assert.equal(read({ 'x-request-deadline': '-1' }), undefined);
    assert.equal((read({ 'x-request-deadline': '1' }) as number) < 0, true, '1970: passed');
    assert.equal(read({}), undefined);
  });
});

describe('reading a gRPC deadline', () => {
  it('parses grpc-timeout (1 to 8 digits and a unit), rounds up, clamps, refuses the rest', () => {
    assert.equal(parseGrpcTimeout('150m'), 150);
    assert.equal(parseGrpcTimeout('2S'), 2000);
    assert.equal(parseGrpcTimeout('1M'), 60_000);
    assert.equal(parseGrpcTimeout('1500u'), 2);
    assert.equal(parseGrpcTimeout('1n'), 1, 'rounded up: never a zero deadline from a tiny one');
    assert.equal(parseGrpcTimeout('99999999H'), 60_000, 'clamped to deadline.max');
    assert.equal(parseGrpcTimeout('5S', 1000), 1000);
    for (const hostile of ['', '0m', '-5m', '5', 'm', '123456789m', '1.5S', '5s ', '5 S', 'abc', '1e3m', ['5m']])
      assert.equal(parseGrpcTimeout(hostile), undefined, JSON.stringify(hostile));
  });

  it("prefers the call's own deadline (grpc-js: a Date or epoch ms; Infinity is none), else the metadata's grpc-timeout", () => {
    const at = (deadline: unknown) => ({ getDeadline: () => deadline });
    assert.equal(remainingOfRpc(at(1_000_300), '5m', 1_000_000), 300);
    assert.equal(remainingOfRpc(at(new Date(1_000_250)), undefined, 1_000_000), 250);
    assert.equal(remainingOfRpc(at(999_000), undefined, 1_000_000), -1000, 'passed');
    assert.equal(remainingOfRpc(at(Number.POSITIVE_INFINITY), '40m', 1_000_000), 40);
    assert.equal(remainingOfRpc(at(Number.POSITIVE_INFINITY), undefined, 1_000_000), undefined);
    assert.equal(remainingOfRpc(at(9_000_000_000), undefined, 1_000_000), 60_000, 'clamped');
    assert.equal(remainingOfRpc(undefined, '7S', 0), 7000, 'a transport without a call object');
    assert.equal(remainingOfRpc({ getDeadline: 'no' }, undefined, 0), undefined);
  });
});
