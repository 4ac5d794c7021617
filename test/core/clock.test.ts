import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { CoarseClock } from '../../lib/index.js';

describe('CoarseClock', () => {
  it('reuses a reading for at most 64 reads, and never across a macrotask', async () => {
    // The clock reads the monotonic clock: performance.timeOrigin + performance.now().
    let now = 1_000;
    const origin = performance.timeOrigin;
    const monotonic = mock.method(performance, 'now', () => now);
    try {
      const clock = new CoarseClock();
      assert.equal(clock.now(), origin + 1_000);
      now = 1_005;
      for (let i = 1; i < 64; i++) assert.equal(clock.now(), origin + 1_000, `read ${i + 1} reuses the reading`);
      assert.equal(clock.now(), origin + 1_005, 'the 65th read takes a new one');
      now = 2_000;
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(clock.now(), origin + 2_000, 'a new macrotask takes a new reading');
      assert.equal(monotonic.mock.callCount(), 3);
    } finally {
      monotonic.mock.restore();
    }
  });
});
