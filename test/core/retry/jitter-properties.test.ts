import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RetryPolicy } from '../../../lib/index.js';

const ATTEMPTS = 10_000;

// cockatiel #86: a schedule that returned NaN after 1,025 attempts. Every wait of every
// jitter kind, over 10,000 attempts, with any accepted settings and any random stream.
describe('retry delays: every jitter kind stays finite and within [0, maxDelay]', () => {
  it('over 10,000 attempts, through RetryPolicy, for any accepted settings', async () => {
    const jitter = fc.oneof(
      fc.constantFrom(true, false, 'full' as const, 'equal' as const, 'decorrelated' as const),
      fc.double({ min: 0, max: 1, noNaN: true }),
    );
    const settings = fc.record({
      baseDelay: fc.oneof(fc.constant(0), fc.double({ min: 0.000_001, max: 100, noNaN: true })),
      extra: fc.double({ min: 0, max: 10_000, noNaN: true }),
      exponentialBase: fc.double({ min: 1, max: 10, noNaN: true }),
      jitter,
      seed: fc.integer(),
    });
    await fc.assert(
      fc.asyncProperty(settings, async ({ baseDelay, extra, exponentialBase, jitter, seed }) => {
        const maxDelay = baseDelay + extra;
        // A deterministic stream of uniforms in [0, 1), including the extremes' neighbourhood.
        let state = seed >>> 0 || 1;
        const random = () => {
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          return (state >>> 0) / 2 ** 32;
        };
        const waits: number[] = [];
        const policy = new RetryPolicy({
          maxAttempts: ATTEMPTS + 1,
          baseDelay,
          maxDelay,
          exponentialBase,
          jitter,
          random,
          sleep: async (ms) => {
            waits.push(ms);
          },
        });
        await policy.execute(() => Promise.reject(new Error('transient'))).catch(() => undefined);
        assert.equal(waits.length, ATTEMPTS);
        const maxMs = Math.round(maxDelay * 1000); // durations are whole milliseconds
        for (const [i, ms] of waits.entries()) {
          assert.ok(Number.isFinite(ms), `wait ${i + 1} is ${ms}`);
          assert.ok(ms >= 0 && ms <= maxMs + 1e-6, `wait ${i + 1} is ${ms} ms, outside [0, ${maxMs}]`);
        }
      }),
      { numRuns: 60 },
    );
  });
});
