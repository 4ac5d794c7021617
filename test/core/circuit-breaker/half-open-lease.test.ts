import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreakerPolicy, CircuitOpenError, ManualClock } from '../../../lib/index.js';

const never = () => new Promise<never>(() => undefined);
const fail = () => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNREFUSED' }));

describe('a half-open trial that never settles', () => {
  it('holds its slot only for its lease (default: the open timeout), then a new trial is admitted', async () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy('lease', { failureThreshold: 1, timeout: 60, clock });
    await breaker.execute(fail).catch(() => undefined);
    assert.equal(breaker.state, 'open');
    clock.advance(60_000);
    void breaker.execute(never); // the trial hangs for ever
    await assert.rejects(
      breaker.execute(async () => 1),
      CircuitOpenError,
    );
    clock.advance(59_999);
    await assert.rejects(
      breaker.execute(async () => 1),
      CircuitOpenError,
      'still leased',
    );
    clock.advance(1);
    assert.equal(await breaker.execute(async () => 1), 1, 'the lease ran out: a fresh trial is admitted');
  });

  it('24 h later the breaker is not wedged: calls are admitted', async () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy('wedge', { failureThreshold: 1, timeout: 30, clock });
    await breaker.execute(fail).catch(() => undefined);
    clock.advance(30_000);
    void breaker.execute(never);
    clock.advance(24 * 3600_000);
    let admitted = 0;
    for (let i = 0; i < 100; i++) {
      await breaker
        .execute(async () => 1)
        .then(
          () => admitted++,
          () => undefined,
        );
    }
    assert.equal(admitted, 100, 'a successful trial closed the breaker and the rest went through');
    assert.equal(breaker.state, 'closed');
  });

  it('a late result of an expired trial changes nothing; halfOpenTrialTimeout sets the lease', async () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy('late', {
      failureThreshold: 1,
      timeout: 10,
      halfOpenTrialTimeout: '2s',
      clock,
    });
    await breaker.execute(fail).catch(() => undefined);
    clock.advance(10_000);
    let failLate!: (e: Error) => void;
    const late = breaker.execute(() => new Promise<never>((_, reject) => (failLate = reject)));
    clock.advance(2000);
    const fresh = breaker.execute(() => new Promise<number>(() => undefined));
    failLate(new Error('late failure'));
    await late.catch(() => undefined);
    assert.equal(breaker.state, 'half_open', 'the expired trial did not re-open the breaker');
    void fresh;
    assert.throws(() => new CircuitBreakerPolicy('bad', { halfOpenTrialTimeout: 0 }), /halfOpenTrialTimeout/);
  });
});
