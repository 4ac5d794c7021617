import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { createRedisClient } from '../../lib/index.js';
import { testRedisUrl } from '../support/redis.js';

describe('createRedisClient', () => {
  it('talks to the real redis-server', async () => {
    const client = await createRedisClient({ url: testRedisUrl() });
    try {
      assert.equal(await client.ping(), 'PONG');
      await client.set('nest-resilience:test', '1');
      assert.equal(await client.get('nest-resilience:test'), '1');
    } finally {
      client.disconnect();
    }
  });

  it('fails a command fast instead of hanging when Redis does not answer', async () => {
    // A TCP server that accepts connections and never replies: the worst case.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const client = await createRedisClient({
      host: '127.0.0.1',
      port,
      commandTimeout: '200ms',
      connectTimeout: '300ms',
    });
    client.on('error', () => {});
    const started = Date.now();
    try {
      await assert.rejects(client.ping());
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    } finally {
      client.disconnect();
      silent.close();
    }
  });
});
