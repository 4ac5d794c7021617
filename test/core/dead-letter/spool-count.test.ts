import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DeadLetterBackend,
  DeadLetterQueue,
  type DeadLetterRecord,
  MemoryDeadLetterBackend,
  SpooledDeadLetterBackend,
} from '../../../lib/core/index.js';

/** A primary that is down: every add fails before it leaves the process. */
function downPrimary(): DeadLetterBackend {
  const primary = new MemoryDeadLetterBackend();
  primary.add = () => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
  return primary;
}

/** A spool whose writes wait until `release()` (a disk slower than the drain's look at it). */
function slowSpool(): { spool: MemoryDeadLetterBackend; release: () => void } {
  const spool = new MemoryDeadLetterBackend();
  const write = spool.add.bind(spool);
  const waiting: (() => void)[] = [];
  spool.add = (letter: DeadLetterRecord) =>
    new Promise<void>((resolve) => waiting.push(resolve)).then(() => write(letter));
  const release = () => {
    for (const go of waiting.splice(0)) go();
  };
  return { spool, release };
}

describe('the spool counts every letter it accepted', () => {
  it('a drain that finds the spool empty while letters are being written keeps them in the count', async () => {
    const { spool, release } = slowSpool();
    const backend = new SpooledDeadLetterBackend({ primary: downPrimary(), spool, drainEvery: 60_000 });
    const queue = new DeadLetterQueue({ name: 'orders', backend });
    const adds = [1, 2, 3].map((n) => queue.add({ args: [n], error: new Error(`charge ${n} failed`) }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(backend.spoolSize, 3, 'counted when accepted');
    // Before: the drain listed nothing yet written and set the count from the spool's size (0).
    await backend.drain();
    release();
    await Promise.all(adds);
    assert.equal(backend.spoolSize, 3);
    assert.equal(await spool.size(), 3);
    // Once nothing is being written, a drain that finds the spool as counted changes nothing.
    await backend.drain();
    assert.equal(backend.spoolSize, 3);
  });
});
