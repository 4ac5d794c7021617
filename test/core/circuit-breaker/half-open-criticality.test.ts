import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreakerPolicy, CircuitOpenError, type Criticality, ManualClock } from '../../../lib/index.js';

const fail = () => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNREFUSED' }));
const never = () => new Promise<never>(() => undefined);

/** A breaker opened by one failure, open for 10 s, one trial at a time, closed by one success. */
function openBreaker(clock: ManualClock) {
  const breaker = new CircuitBreakerPolicy('classes', { failureThreshold: 1, successThreshold: 1, timeout: 10, clock });
  return breaker.execute(fail).then(
    () => assert.fail('the first call fails'),
    () => breaker,
  );
}

/** Whether a call of `criticality` is admitted (its operation hangs, holding a trial slot). */
function tries(breaker: CircuitBreakerPolicy, criticality: Criticality): Promise<boolean> {
  let admitted = false;
  const outcome = breaker.execute(
    () => {
      admitted = true;
      return never();
    },
    undefined,
    criticality,
  );
  return outcome.then(
    () => true,
    (error: unknown) => {
      assert.ok(error instanceof CircuitOpenError);
      return admitted;
    },
  );
}

/** Admitted or not, decided at once (the breaker runs an admitted call before execute returns). */
async function admitted(breaker: CircuitBreakerPolicy, criticality: Criticality): Promise<boolean> {
  return Promise.race([tries(breaker, criticality), new Promise<boolean>((r) => setImmediate(() => r(true)))]);
}

describe('half-open trials go to the most important class', () => {
  it('a sheddable call gets no trial while critical calls arrive; a critical one does', async () => {
    const clock = new ManualClock(0);
    const breaker = await openBreaker(clock);
    clock.advance(5_000);
    assert.equal(await admitted(breaker, 'critical'), false, 'open: everyone is turned away');
    assert.equal(await admitted(breaker, 'sheddable'), false);
    clock.advance(5_000);
    assert.equal(breaker.state, 'half_open');
    assert.equal(await admitted(breaker, 'sheddable'), false, 'a critical call was seen 5 s ago: the trial is its');
    assert.equal(await admitted(breaker, 'critical'), true, 'the critical call takes the trial');
  });

  it('critical_plus outranks critical; calls without a class are critical', async () => {
    const clock = new ManualClock(0);
    const breaker = await openBreaker(clock);
    clock.advance(5_000);
    await admitted(breaker, 'critical_plus');
    clock.advance(5_000);
    assert.equal(await admitted(breaker, 'critical'), false);
    const unclassed = await Promise.race([
      breaker.execute(never).then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => setImmediate(() => r(true))),
    ]);
    assert.equal(unclassed, false, 'no class reads as critical: outranked too');
    assert.equal(await admitted(breaker, 'critical_plus'), true);
  });

  it('never starves: only sheddable traffic probes, and lower classes probe once the higher ones stop for the open duration', async () => {
    const clock = new ManualClock(0);
    const breaker = await openBreaker(clock);
    clock.advance(10_000);
    assert.equal(await admitted(breaker, 'sheddable'), true, 'only sheddable traffic: it probes');

    const clock2 = new ManualClock(0);
    const second = await openBreaker(clock2);
    clock2.advance(1_000);
    await admitted(second, 'critical'); // seen at 1 s, then no more critical calls
    clock2.advance(9_000);
    assert.equal(await admitted(second, 'sheddable'), false, 'critical seen 9 s ago (< 10 s open duration)');
    clock2.advance(1_000);
    assert.equal(await admitted(second, 'sheddable'), true, '10 s without a critical call: sheddable probes');
  });

  it('a successful trial of the highest class closes the breaker for everyone', async () => {
    const clock = new ManualClock(0);
    const breaker = await openBreaker(clock);
    await admitted(breaker, 'critical');
    clock.advance(10_000);
    assert.equal(await breaker.execute(async () => 'ok', undefined, 'critical'), 'ok');
    assert.equal(breaker.state, 'closed');
    assert.equal(await breaker.execute(async () => 'ok', undefined, 'sheddable'), 'ok');
  });
});
