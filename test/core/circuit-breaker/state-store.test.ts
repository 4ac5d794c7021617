import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CircuitBreakerPolicy,
  type CircuitBreakerSnapshot,
  CircuitOpenError,
  type CircuitStateStore,
  CountWindow,
  ManualClock,
  MemoryCircuitStateStore,
} from '../../../lib/core/index.js';

const fail = async () => {
  throw new Error('down');
};

describe('CircuitStateStore: the seam a shared store implements', () => {
  it('saves every state change, and a breaker created later starts from the saved state', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryCircuitStateStore();
    const first = new CircuitBreakerPolicy('payments', { failureThreshold: 2, timeout: 30, clock, stateStore: store });
    await assert.rejects(first.execute(fail));
    assert.equal(store.load('payments'), undefined, 'no state change yet: nothing written');
    await assert.rejects(first.execute(fail));
    assert.equal(store.load('payments')?.state, 'open');
    const second = new CircuitBreakerPolicy('payments', { failureThreshold: 2, timeout: 30, clock, stateStore: store });
    assert.equal(second.state, 'open');
    await assert.rejects(
      second.execute(async () => 'ok'),
      CircuitOpenError,
    );
    clock.advance(30_000);
    assert.equal(await second.execute(async () => 'ok'), 'ok');
    assert.equal(store.load('payments')?.state, 'half_open');
  });

  it('loading a state does not write it back; forceOpen and restore do', () => {
    const saved: CircuitBreakerSnapshot[] = [];
    const seed = new CircuitBreakerPolicy('x').snapshot();
    const store: CircuitStateStore = {
      load: () => ({ ...seed, state: 'open', openUntil: 10 }),
      save: (s) => saved.push(s),
    };
    const breaker = new CircuitBreakerPolicy('x', { stateStore: store, clock: new ManualClock(0) });
    assert.equal(breaker.state, 'open');
    assert.equal(saved.length, 0);
    breaker.forceOpen();
    assert.equal(saved.at(-1)?.forced, true);
    breaker.restore(seed);
    assert.equal(saved.at(-1)?.state, 'closed');
  });
});

describe('the outcome window is injectable', () => {
  it('a breaker in rate mode records into the window it is given and opens from it', async () => {
    const window = new CountWindow(4);
    const breaker = new CircuitBreakerPolicy('w', {
      failureRateThreshold: 50,
      minimumCalls: 4,
      failureThreshold: 100,
      window,
    });
    await breaker.execute(async () => 'ok');
    await breaker.execute(async () => 'ok');
    await assert.rejects(breaker.execute(fail));
    assert.deepEqual(window.totals(), { calls: 3, failures: 1, slow: 0 });
    await assert.rejects(breaker.execute(fail));
    assert.equal(breaker.state, 'closed', '2 of 4 is 50%: the rate must be above the threshold');
    await assert.rejects(breaker.execute(fail));
    assert.equal(breaker.state, 'open', '3 of the last 4 failed');
  });
});
