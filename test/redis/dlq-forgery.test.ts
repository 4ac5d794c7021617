import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedisClient, DeadLetterQueue, LetterCodec, RedisDeadLetterBackend } from '../../lib/index.js';
import { testRedisUrl } from '../support/redis.js';

// An attacker with write access to Redis (but not the key) plants or moves letters.
describe('an encrypted Redis dead-letter queue refuses forged letters', () => {
  let client: Redis;
  const codec = new LetterCodec({
    encryption: { keys: { k1: randomBytes(32).toString('base64') }, activeKeyId: 'k1' },
  });
  const hash = '{forge:pay}:letters';
  const ids = '{forge:pay}:ids';
  const queue = () =>
    new DeadLetterQueue({
      name: 'pay',
      backend: new RedisDeadLetterBackend({ client, queue: 'pay', keyPrefix: 'forge', codec }),
    });

  before(async () => {
    client = await createRedisClient({ url: testRedisUrl() });
  });
  after(() => client.disconnect());

  it('never lists or replays an unencrypted letter written into it', async () => {
    const q = queue();
    await q.purge();
    const real = await q.add({ args: [{ amount: 1 }], error: new Error('declined') });
    const forged = {
      ...(await q.get(real.id)),
      id: `${real.id.slice(0, 9)}-zzzzzz-forged00`,
      args: [{ amount: 1_000_000 }],
    };
    await client.hset(hash, forged.id, JSON.stringify(forged));
    await client.zadd(ids, 0, forged.id);
    const damaged: string[] = [];
    q.on('damaged', (d) => damaged.push(d.reason));
    const replayed: unknown[] = [];
    const report = await q.replay((letter) => replayed.push(letter.args), { sleep: async () => {} });
    assert.deepEqual(replayed, [[{ amount: 1 }]], 'only the sealed letter was replayed');
    assert.equal(report.succeeded, 1);
    assert.ok(
      damaged.some((r) => /not sealed/.test(r)),
      damaged.join('\n'),
    );
    assert.equal(await q.get(forged.id), undefined);
  });

  it('refuses a sealed body moved under another id or into another queue', async () => {
    const q = queue();
    await q.purge();
    const a = await q.add({ args: ['a'], error: new Error('x') });
    const b = await q.add({ args: ['b'], error: new Error('x') });
    const sealedA = (await client.hget(hash, a.id)) as string;
    await client.hset(hash, b.id, sealedA);
    assert.equal(await q.get(b.id), undefined, 'a body sealed for a does not read as b');
    assert.deepEqual((await q.get(a.id))?.args, ['a']);
    // The same body copied into another queue's keys.
    const other = new DeadLetterQueue({
      name: 'refunds',
      backend: new RedisDeadLetterBackend({ client, queue: 'refunds', keyPrefix: 'forge', codec }),
    });
    await other.purge();
    await client.hset('{forge:refunds}:letters', a.id, sealedA);
    await client.zadd('{forge:refunds}:ids', 0, a.id);
    assert.deepEqual((await other.list()).items, []);
    await other.purge();
  });

  it('skips an undecodable letter in list() and replay() and goes on with the rest', async () => {
    const plain = new DeadLetterQueue({
      name: 'plain',
      backend: new RedisDeadLetterBackend({ client, queue: 'plain', keyPrefix: 'forge' }),
    });
    await plain.purge();
    const first = await plain.add({ args: [1], error: new Error('x') });
    const broken = await plain.add({ args: [2], error: new Error('x') });
    const last = await plain.add({ args: [3], error: new Error('x') });
    await client.hset('{forge:plain}:letters', broken.id, '{"not": "a letter"');
    assert.deepEqual(
      (await plain.list()).items.map((l) => l.id),
      [first.id, last.id],
    );
    const report = await plain.replay(() => undefined, { sleep: async () => {} });
    assert.equal(report.succeeded, 2);
    assert.equal(await plain.size(), 1, 'the damaged letter is left where it is');
    assert.equal(plain.damaged().total >= 2, true);
    assert.equal(plain.damaged().recent[0].id, broken.id);
    await plain.purge();
  });
});
