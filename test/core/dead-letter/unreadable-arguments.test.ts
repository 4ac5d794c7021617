import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compose, DeadLetterQueue, deadLetterStage, deserializeValue } from '../../../lib/core/index.js';

/** Arguments no serializer can read as they are. */
function hostileArguments() {
  const getter = Object.defineProperty({ order: 'o-1' }, 'secret', {
    enumerable: true,
    get() {
      throw new Error('getter refused');
    },
  });
  const trap = new Proxy(
    {},
    {
      ownKeys() {
        throw new Error('ownKeys trap refused');
      },
    },
  );
  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 20_000; i++) deep = { next: deep };
  return { getter, trap, deep, huge: Buffer.alloc(64 * 1024 * 1024, 1) };
}

describe('a letter is never lost to its arguments', () => {
  for (const [name, pick] of [
    ['a getter that throws', (a: ReturnType<typeof hostileArguments>) => a.getter],
    ['a Proxy whose ownKeys trap throws', (a: ReturnType<typeof hostileArguments>) => a.trap],
    ['an object nested 20,000 deep', (a: ReturnType<typeof hostileArguments>) => a.deep],
    ['a 64 MiB Buffer', (a: ReturnType<typeof hostileArguments>) => a.huge],
  ] as const) {
    it(`${name}: the letter is kept, that part marked with why, flagged truncated; the caller gets its own error`, async () => {
      const queue = new DeadLetterQueue({ name: 'orders' });
      const argument = pick(hostileArguments());
      const callError = new Error('charge failed');
      const run = compose([deadLetterStage({ queue, rethrow: true, source: { service: 'orders' } })]);
      const thrown = await run({ args: ['o-1', argument], operation: () => Promise.reject(callError) }).catch(
        (e: unknown) => e,
      );
      assert.equal(thrown, callError, 'the failed call’s error reaches its caller unchanged');
      const [letter] = (await queue.list()).items;
      assert.ok(letter, 'the letter was kept');
      assert.match(
        letter.truncated?.reason ?? '',
        /threw|deeper than 64 levels|over the size budget|could not be read/,
      );
      const [first] = deserializeValue(letter.args) as unknown[];
      assert.equal(first, 'o-1', 'what could be read is kept');
      assert.match(JSON.stringify(letter.args), /"\$type":"omitted","reason":"/);
    });
  }

  it('the marker names the part: the getter’s key and its error', async () => {
    const queue = new DeadLetterQueue({ name: 'orders' });
    const kept = await queue.add({ args: [hostileArguments().getter], error: new Error('x') });
    assert.deepEqual(kept.args, [
      { order: 'o-1', secret: { $type: 'omitted', reason: 'reading "secret" threw (getter refused)' } },
    ]);
    assert.equal(kept.truncated?.reason, 'reading "secret" threw (getter refused)');
  });

  it('an error whose own fields throw is still described, and its letter kept', async () => {
    const queue = new DeadLetterQueue({ name: 'orders' });
    const hostile = new Proxy(new Error('boom'), {
      get(target, key) {
        if (key === 'message' || key === 'stack') throw new Error('no');
        return Reflect.get(target, key);
      },
    });
    const kept = await queue.add({ args: [], error: hostile });
    assert.equal(kept.error.name, 'Error');
    assert.equal(kept.error.message, '');
  });
});
