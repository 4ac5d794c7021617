import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toMilliseconds, toSeconds, tryParseDuration } from '../../lib/index.js';

describe('durations', () => {
  it('reads a plain number as seconds, as the guide does', () => {
    assert.equal(toSeconds(60), 60);
    assert.equal(toSeconds(1.5), 1.5);
    assert.equal(toMilliseconds(0.1), 100);
  });

  it('reads units', () => {
    assert.deepEqual(
      ['250ms', '90s', '5m', '1h', '7d', '1.5s', '42'].map((v) => toSeconds(v)),
      [0.25, 90, 300, 3600, 604800, 1.5, 42],
    );
  });

  it('rejects what is not a duration, naming it', () => {
    for (const bad of ['5 minutes', '1w', '-1s', '', 'ms', Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      assert.equal(tryParseDuration(bad), undefined, String(bad));
    }
    assert.throws(() => toSeconds('soon', 'retry.baseDelay'), /retry\.baseDelay: invalid duration "soon"/);
  });
});
