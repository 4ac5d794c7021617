import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import {
  createRedisClient,
  DeadLetterQueue,
  DeadLetterTooLargeError,
  LetterCodec,
  RedisDeadLetterBackend,
} from '../../lib/index.js';
import { deadLetterContract } from '../support/dlq-contract.js';
import { testRedisUrl } from '../support/redis.js';

let client: Redis;
before(async () => {
  client = await createRedisClient({ url: testRedisUrl() });
});
after(() => client.disconnect());

describe('Redis dead-letter backend (contract, real redis-server)', () => {
  deadLetterContract(async () => new RedisDeadLetterBackend({ client, queue: 'contract', keyPrefix: 'test_dlq' }), {
    reopen: true,
  });
});

describe('Redis dead-letter backend', () => {
  it('stores under hash-tagged keys with the key prefix', async () => {
    const q = new DeadLetterQueue({
      name: 'orders',
      backend: new RedisDeadLetterBackend({ client, queue: 'orders', keyPrefix: 'order_dlq' }),
    });
    await q.purge();
    await q.add({ error: new Error('x') });
    assert.equal(await client.hlen('{order_dlq:orders}:letters'), 1);
    assert.equal(await client.zcard('{order_dlq:orders}:ids'), 1);
  });

  it('compresses large letters (gzip and brotli) and reads them back', async () => {
    for (const compression of ['gzip', 'brotli'] as const) {
      const codec = new LetterCodec({ compression });
      const backend = new RedisDeadLetterBackend({ client, queue: `zip-${compression}`, codec });
      const q = new DeadLetterQueue({ name: 'zip', backend, codec });
      await q.purge();
      const letter = await q.add({ args: ['a'.repeat(50_000)], error: new Error('x') });
      const raw = (await client.hget(`{dlq:zip-${compression}}:letters`, letter.id)) as string;
      assert.ok(raw.length < 2000, `${compression}: stored ${raw.length} chars for 50 kB`);
      const stored = await q.get(letter.id);
      assert.ok(stored);
      assert.equal((stored.args as string[])[0].length, 50_000);
    }
  });

  it('encrypts at rest with AES-256-GCM, detects tampering, and reads old letters after key rotation', async () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');
    const old = new LetterCodec({ encryption: { keys: { k1 }, activeKeyId: 'k1' } });
    const q1 = new DeadLetterQueue({
      name: 'payments',
      backend: new RedisDeadLetterBackend({ client, queue: 'payments', keyPrefix: 'payment_dlq', codec: old }),
    });
    await q1.purge();
    const first = await q1.add({ args: [{ card: '4242 4242 4242 4242' }], error: new Error('declined') });
    const raw = (await client.hget('{payment_dlq:payments}:letters', first.id)) as string;
    assert.match(raw, /^enc2:k1:/);
    assert.doesNotMatch(raw, /4242/, 'no plaintext at rest');
    // Rotation: new letters under k2, old ones still read with k1.
    const rotated = new LetterCodec({ encryption: { keys: { k1, k2 }, activeKeyId: 'k2' } });
    const q2 = new DeadLetterQueue({
      name: 'payments',
      backend: new RedisDeadLetterBackend({ client, queue: 'payments', keyPrefix: 'payment_dlq', codec: rotated }),
    });
    const second = await q2.add({ args: [2], error: new Error('x') });
    assert.match((await client.hget('{payment_dlq:payments}:letters', second.id)) as string, /^enc2:k2:/);
    assert.deepEqual((await q2.get(first.id))?.args, [{ card: '4242 4242 4242 4242' }]);
    // Tampering: flip one character of the ciphertext.
    const tampered = raw.slice(0, -6) + (raw.at(-6) === 'A' ? 'B' : 'A') + raw.slice(-5);
    await client.hset('{payment_dlq:payments}:letters', first.id, tampered);
    // A tampered letter is never returned: it is skipped and reported, the rest still reads.
    const damaged: string[] = [];
    q2.on('damaged', (d) => damaged.push(`${d.id}: ${d.reason}`));
    assert.equal(await q2.get(first.id), undefined);
    assert.deepEqual(
      (await q2.list()).items.map((l) => l.id),
      [second.id],
    );
    assert.equal(damaged.length, 2);
    assert.match(damaged[0], /integrity check/);
  });

  it('a letter over maxMessageSize as stored is kept without its arguments, flagged with the numbers; truncate: false refuses it', async () => {
    const backend = new RedisDeadLetterBackend({ client, queue: 'sized' });
    const strict = new DeadLetterQueue({ name: 'sized', backend, maxMessageSize: 1024, truncateOversized: false });
    await strict.purge();
    // Random text does not compress: 5,000 bytes stay over 1,024 stored.
    const noise = randomBytes(2500).toString('hex');
    const error = await strict.add({ args: [noise], error: new Error('x') }).catch((e) => e);
    assert.ok(error instanceof DeadLetterTooLargeError);
    assert.match(error.message, /is \d{4} bytes as stored, over maxMessageSize 1024 bytes/);
    assert.equal(await strict.size(), 0);
    const lenient = new DeadLetterQueue({ name: 'sized', backend, maxMessageSize: 1024 });
    const stored = await lenient.add({ args: [noise], error: new Error('x') });
    assert.deepEqual(stored.args, {
      $type: 'omitted',
      reason: stored.truncated?.reason,
    });
    assert.ok((stored.truncated?.originalSize ?? 0) > 5000);
    assert.match(
      stored.truncated?.reason ?? '',
      /as stored, over maxMessageSize 1024 bytes: its arguments were left out/,
    );
    assert.equal(await lenient.size(), 1);
  });

  it('maxMessageSize bounds the stored bytes: 100 KB that gzip stores in a few hundred fits a 4 KiB limit', async () => {
    const codec = new LetterCodec({ compression: 'gzip' });
    const backend = new RedisDeadLetterBackend({ client, queue: 'compressed', codec });
    const queue = new DeadLetterQueue({
      name: 'compressed',
      backend,
      codec,
      maxMessageSize: 4096,
      truncateOversized: false,
    });
    await queue.purge();
    const kept = await queue.add({ args: ['a'.repeat(100_000)], error: new Error('x') });
    assert.equal(kept.truncated, undefined);
    assert.equal((kept.args as string[])[0].length, 100_000);
    assert.ok(Buffer.byteLength((await client.hget('{dlq:compressed}:letters', kept.id)) ?? '') < 4096);
  });
});
