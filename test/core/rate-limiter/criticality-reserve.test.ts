import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Criticality,
  compose,
  createContext,
  ManualClock,
  RateLimitExceededError,
  RateLimiter,
  rateLimitStage,
} from '../../../lib/core/index.js';

describe('a rate limiter under saturation sheds the lower classes first', () => {
  it('a sheddable call must leave 20% of the capacity, a sheddable_plus one 10%; critical ones take the rest', async () => {
    const limiter = new RateLimiter({ name: 'api', rate: 10, per: 60, clock: new ManualClock(0) });
    const run = compose([rateLimitStage({ limiter })]);
    const call = (criticality?: Criticality) =>
      run(createContext(() => 'ok', [], { criticality })).then(
        () => 'admitted',
        (e) => {
          assert.ok(e instanceof RateLimitExceededError);
          return 'refused';
        },
      );
    for (let i = 0; i < 7; i++) assert.equal(await call(), 'admitted'); // unclassed: critical
    assert.equal(await call('sheddable'), 'admitted', '3 left: it may take 1 and leave the 2 reserved');
    assert.equal(await call('sheddable'), 'refused', '2 left: the reserve');
    assert.equal(await call('sheddable_plus'), 'admitted', '2 left: it may take 1 and leave its 1 reserved');
    assert.equal(await call('sheddable_plus'), 'refused', '1 left: its reserve');
    assert.equal(await call('critical_plus'), 'admitted', 'the reserve is for the critical classes');
    assert.equal(await call('critical'), 'refused', 'all used');
    const verdict = await limiter.check('global');
    assert.equal(verdict.remaining, 0, 'the refusals counted nothing');
  });

  it('with room to spare, every class passes alike', async () => {
    const limiter = new RateLimiter({ name: 'api', rate: 100, per: 60, clock: new ManualClock(0) });
    const run = compose([rateLimitStage({ limiter })]);
    for (const criticality of ['sheddable', 'sheddable_plus', 'critical', 'critical_plus'] as const) {
      assert.equal(await run(createContext(() => 'ok', [], { criticality })), 'ok');
    }
  });
});
