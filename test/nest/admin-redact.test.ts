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

  it('hides a password in a URL query and one that holds an @ (the last @ ends it)', () => {
    assert.equal(redact('redis://cache:6379/0?password=hunter2&db=1'), 'redis://cache:6379/0?password=[redacted]&db=1');
    assert.equal(redact('redis://:pa@ss@cache:6379'), 'redis://:[redacted]@cache:6379');
    assert.equal(redact('rediss://cache:6380?auth=tok&timeout=5'), 'rediss://cache:6380?auth=[redacted]&timeout=5');
    assert.equal(redact('https://example.com/path?page=2'), 'https://example.com/path?page=2');
    assert.doesNotMatch(
      JSON.stringify(redact({ a: 'redis://:pa@ss@h', b: 'redis://h?password=hunter2' })),
      /pa@ss|ss@h|hunter2/,
    );
  });

  it('survives a cycle', () => {
    const loop: Record<string, unknown> = { name: 'a' };
    loop.self = loop;
    assert.deepEqual(redact(loop), { name: 'a', self: '[circular]' });
  });
});
