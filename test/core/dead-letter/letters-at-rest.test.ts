import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CircuitOpenError,
  DEFAULT_MAX_MESSAGE_SIZE,
  DeadLetterQueue,
  DeadLetterTooLargeError,
  deserializeValue,
  MalformedValueError,
  RateLimitExceededError,
  SqsDeadLetterBackend,
  serializeValue,
} from '../../../lib/index.js';

const SAFE_PROTOTYPES = new Set<unknown>([
  Object.prototype,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  Error.prototype,
  Buffer.prototype,
  Uint8Array.prototype,
  Int8Array.prototype,
  Float64Array.prototype,
  DataView.prototype,
]);

function everyObject(value: unknown, visit: (o: object) => void, seen = new Set<object>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  visit(value);
  const children =
    value instanceof Map ? [...value.entries()].flat() : value instanceof Set ? [...value] : Object.values(value);
  for (const child of children) everyObject(child, visit, seen);
}

describe('decoding a stored letter never trusts it', () => {
  it('a typed array naming "Function" never reaches new Function()', () => {
    const out = deserializeValue([
      { $type: 'typedarray', kind: 'Function', base64: Buffer.from('return 1').toString('base64') },
    ]);
    assert.ok(Buffer.isBuffer((out as unknown[])[0]), 'unknown kinds come back as bytes');
    assert.ok(!((out as unknown[])[0] instanceof Function));
  });

  it('a stored __proto__ never sets a prototype, and an own __proto__ key survives as data', () => {
    const stored = JSON.parse('[{"user":{"__proto__":{"isAdmin":true},"name":"eve"}}]');
    const [{ user }] = deserializeValue(stored) as [{ user: Record<string, unknown> }];
    assert.equal((user as { isAdmin?: boolean }).isAdmin, undefined);
    assert.equal(Object.getPrototypeOf(user), Object.prototype);
    assert.deepEqual(Object.keys(user), ['__proto__', 'name']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(user, '__proto__')?.value, { isAdmin: true });
    // Round trip of arguments that carry an own __proto__ key (as JSON.parse makes them).
    const args = [JSON.parse('{"__proto__":{"x":1},"y":2}')];
    const back = deserializeValue(JSON.parse(JSON.stringify(serializeValue(args)))) as Record<string, unknown>[];
    assert.deepEqual(Object.getOwnPropertyDescriptor(back[0], '__proto__')?.value, { x: 1 });
    assert.equal(back[0].y, 2);
  });

  it('property: any hostile encoding decodes to plain data or a MalformedValueError, never more', () => {
    const tag = fc.constantFrom(
      'typedarray',
      'instance',
      'object',
      'map',
      'set',
      'ref',
      'error',
      'date',
      'bigint',
      'function',
      'Function',
      '__proto__',
      'constructor',
    );
    const hostile: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue(),
        fc.record(
          {
            $type: tag,
            kind: fc.constantFrom('Function', 'Object', 'Uint8Array', 'Proxy', 'eval'),
            base64: fc.base64String(),
            value: tie('node'),
            entries: tie('node'),
            values: tie('node'),
            path: fc.constantFrom('$', '$.0', 'x'),
          },
          { requiredKeys: ['$type'] },
        ),
        fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'a', '$type'), tie('node'), {
          maxKeys: 4,
        }),
        fc.array(tie('node'), { maxLength: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(hostile, (input) => {
        const json = JSON.parse(JSON.stringify(input));
        let out: unknown;
        try {
          out = deserializeValue(json);
        } catch (error) {
          if (error instanceof MalformedValueError) return;
          throw error;
        }
        everyObject(out, (o) => {
          assert.ok(
            SAFE_PROTOTYPES.has(Object.getPrototypeOf(o)) || ArrayBuffer.isView(o),
            `an object decoded with a foreign prototype: ${Object.prototype.toString.call(o)}`,
          );
          assert.equal(typeof o, 'object');
        });
        assert.equal(({} as { polluted?: unknown }).polluted, undefined);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('letter size', () => {
  it('has a default limit (1 MiB; 256 KiB on SQS); a 64 MiB Buffer is left out without being copied and the letter kept', async () => {
    const q = new DeadLetterQueue({ name: 'big' });
    assert.equal(q.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
    assert.equal(DEFAULT_MAX_MESSAGE_SIZE, 1024 * 1024);
    const sqs = new DeadLetterQueue({
      name: 'sqs',
      backend: new SqsDeadLetterBackend({ queueUrl: 'http://localhost:1/q' }),
    });
    assert.equal(sqs.maxMessageSize, 256 * 1024);
    const huge = Buffer.alloc(64 * 1024 * 1024, 7);
    const before = process.memoryUsage().rss;
    const kept = await q.add({ args: ['order-7', huge], error: new Error('x') });
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 32 * 1024 * 1024, `RSS grew by ${grown} bytes`);
    assert.equal(await q.size(), 1);
    assert.match(kept.truncated?.reason ?? '', /a Buffer of 67108864 bytes is over the size budget of 16777216 bytes/);
    assert.deepEqual((kept.args as unknown[])[0], 'order-7', 'the rest of the arguments is kept');
    // truncate: false refuses it, naming why (the call's own error still reaches its caller).
    const strict = new DeadLetterQueue({ name: 'big', truncateOversized: false });
    const error = await strict.add({ args: [huge], error: new Error('x') }).catch((e) => e);
    assert.ok(error instanceof DeadLetterTooLargeError, String(error));
    assert.match(
      error.message,
      /could not be kept whole \(a Buffer of 67108864 bytes .*\); maxMessageSize is 1048576 bytes/,
    );
  });
});

describe('replay while the dependency still refuses', () => {
  it('a refusal by the breaker or the limiter is not an attempt: the replay stops, letters stay pending', async () => {
    for (const refusal of [
      new CircuitOpenError('dep', 30),
      new RateLimitExceededError({ retryAfter: 5, limiter: 'l', limit: 1, remaining: 0 } as never),
    ]) {
      const q = new DeadLetterQueue({ name: 'r', maxRetryAttempts: 1 });
      for (let i = 0; i < 5; i++) await q.add({ args: [i], error: new Error('x') });
      let calls = 0;
      const report = await q.replay(
        () => {
          calls++;
          throw refusal;
        },
        { sleep: async () => {} },
      );
      assert.equal(calls, 1, 'stopped at the first refusal');
      assert.deepEqual(report, {
        replayed: 0,
        succeeded: 0,
        failed: 0,
        exhausted: 0,
        stopped: {
          reason: refusal instanceof CircuitOpenError ? 'circuit_open' : 'rate_limited',
          retryAfter: refusal.retryAfter,
        },
      });
      const letters = (await q.list()).items;
      assert.ok(letters.every((l) => l.replays === 0 && l.status === 'pending'));
    }
  });

  it('rejects replay options that remove the bound', async () => {
    const q = new DeadLetterQueue({ name: 'o' });
    await assert.rejects(
      q.replay(() => undefined, { ratePerSecond: 0 }),
      /ratePerSecond must be a finite number > 0, got 0/,
    );
    await assert.rejects(
      q.replay(() => undefined, { ratePerSecond: Number.POSITIVE_INFINITY }),
      /ratePerSecond/,
    );
    await assert.rejects(
      q.replay(() => undefined, { limit: -1 }),
      /limit must be an integer >= 0/,
    );
  });
});
