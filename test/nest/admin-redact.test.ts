import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redact } from '../../lib/nest/admin/redact.js';

// biome-ignore lint/suspicious/noExplicitAny: the redacted JSON, read by path
type Json = Record<string, any>;

class FakeRedis {
  status = 'ready';
}

describe("the console's configuration view (redact)", () => {
  it('hides passwords (also inside URLs), encryption keys, tokens and salts; names functions and instances', () => {
    const keyFunc = function byTenant() {
      return 't';
    };
    const shown = redact({
      redis: {
        url: 'rediss://app:s3cr3t-pw@cache.internal:6380/0',
        password: 'hunter2',
        username: 'app',
        client: new FakeRedis(),
      },
      deadLetter: {
        storageConfig: {
          redisUrl: 'redis://:only-a-password@10.0.0.5:6379',
          encryption: { keys: { k1: 'base64-key-material' }, activeKeyId: 'k1' },
          compression: true,
        },
      },
      trace: { file: '/var/log/trace.jsonl', salt: 'pepper' },
      services: { api: { rate: { keyFunc, apiKeyHeader: 'x-api-key' } } },
    }) as Json;
    assert.equal(shown.redis.url, 'rediss://app:[redacted]@cache.internal:6380/0');
    assert.equal(shown.redis.password, '[redacted]');
    assert.equal(shown.redis.username, 'app');
    assert.equal(shown.redis.client, '[FakeRedis]');
    assert.equal(shown.deadLetter.storageConfig.redisUrl, 'redis://:[redacted]@10.0.0.5:6379');
    assert.equal(shown.deadLetter.storageConfig.encryption.keys, '[redacted]');
    assert.equal(shown.deadLetter.storageConfig.encryption.activeKeyId, 'k1');
    assert.equal(shown.deadLetter.storageConfig.compression, true);
    assert.equal(shown.trace.salt, '[redacted]');
    assert.equal(shown.trace.file, '/var/log/trace.jsonl');
    assert.equal(shown.services.api.rate.keyFunc, '[function byTenant]');
    assert.equal(shown.services.api.rate.apiKeyHeader, 'x-api-key');
    assert.doesNotMatch(JSON.stringify(shown), /s3cr3t|hunter2|only-a-password|key-material|pepper/);
  });

  it('survives a cycle', () => {
    const loop: Record<string, unknown> = { name: 'a' };
    loop.self = loop;
    assert.deepEqual(redact(loop), { name: 'a', self: '[circular]' });
  });
});
