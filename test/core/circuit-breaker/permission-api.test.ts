import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreakerPolicy, ManualClock } from '../../../lib/index.js';

describe('CircuitBreakerPolicy.tryAcquirePermission / onCallEnded (calls execute cannot wrap)', () => {
  it('counts reported failures, turns calls away while open (telling onRejection), admits a trial after the open time', () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy('api', { failureThreshold: 2, successThreshold: 1, timeout: 10, clock });
    let rejections = 0;
    breaker.onRejection(() => rejections++);
    for (let i = 0; i < 2; i++) {
      const permission = breaker.tryAcquirePermission();
      assert.notEqual(permission, undefined);
      breaker.onCallEnded(permission as number, new Error('down'));
    }
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.tryAcquirePermission(), undefined);
    assert.equal(rejections, 1);
    clock.advance(10_000);
    const trial = breaker.tryAcquirePermission();
    assert.notEqual(trial, undefined);
    assert.equal(breaker.tryAcquirePermission(), undefined, 'one trial at a time');
    breaker.onCallEnded(trial as number);
    assert.equal(breaker.state, 'closed');
  });

  it('an error the breaker does not count (a 404) changes nothing; a permission from an earlier state is ignored', () => {
    const breaker = new CircuitBreakerPolicy('api', { failureThreshold: 1 });
    const stale = breaker.tryAcquirePermission() as number;
    breaker.onCallEnded(breaker.tryAcquirePermission() as number, Object.assign(new Error('nope'), { status: 404 }));
    assert.equal(breaker.state, 'closed');
    breaker.forceClose();
    breaker.onCallEnded(stale, new Error('late'));
    assert.equal(breaker.state, 'closed', 'a call admitted before the state change counts for nothing');
  });
});
