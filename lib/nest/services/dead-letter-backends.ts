import { basename, dirname, extname, join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import type { ResolvedDlqSettings } from '../../config/resolved-types.js';
import { LetterCodec } from '../../core/dead-letter/codec.js';
import { FileDeadLetterBackend } from '../../core/dead-letter/file-backend.js';
import { MemoryDeadLetterBackend } from '../../core/dead-letter/memory-backend.js';
import type { DeadLetterBackend } from '../../core/dead-letter/types.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { createRedisClientSync } from '../../redis/client.js';
import { RedisDeadLetterBackend } from '../../redis/dlq-backend.js';
import { SqsDeadLetterBackend } from '../../sqs/dlq-backend.js';

/** Environment variable holding the key for `encryption: true` (32 bytes, base64 or hex). */
export const DLQ_KEY_ENV = 'NEST_RESILIENCE_DLQ_KEY';

export function codecFor(queue: string, settings: ResolvedDlqSettings): LetterCodec {
  const { compression, encryption } = settings.storageConfig;
  let keys: { keys: Record<string, string>; activeKeyId: string } | undefined;
  if (encryption === true) {
    const key = process.env[DLQ_KEY_ENV];
    if (!key) {
      throw new ResilienceConfigError([
        {
          path: `deadLetter queue "${queue}".storageConfig.encryption`,
          message: `is true but no key is set: set ${DLQ_KEY_ENV} (32 bytes, base64) or give { keys, activeKeyId }`,
        },
      ]);
    }
    keys = { keys: { env: key }, activeKeyId: 'env' };
  } else if (encryption) {
    keys = encryption;
  }
  try {
    return new LetterCodec({ compression: compression ?? false, encryption: keys });
  } catch (error) {
    throw new ResilienceConfigError([
      { path: `deadLetter queue "${queue}".storageConfig.encryption`, message: (error as Error).message },
    ]);
  }
}

/** The file path of one queue's log: its own folder under a folder, or beside a named file. */
function filePathFor(queue: string, base: string): string {
  if (extname(base) === '') return join(base, queue);
  return join(dirname(base), `${basename(base, extname(base))}.${queue}.log`);
}

export interface BackendContext {
  redis?: Redis | Cluster | null;
  redisKeyPrefix?: string;
  warn: (message: string) => void;
}

/** The backend a queue's settings ask for; a clear error when what it needs is missing. */
export function backendFor(
  queue: string,
  settings: ResolvedDlqSettings,
  codec: LetterCodec,
  context: BackendContext,
): DeadLetterBackend {
  const config = settings.storageConfig;
  const path = `deadLetter queue "${queue}"`;
  switch (settings.storageBackend) {
    case 'memory':
      return new MemoryDeadLetterBackend();
    case 'file':
      return new FileDeadLetterBackend({
        filePath: filePathFor(queue, config.filePath ?? './.data/dlq'),
        backupEnabled: config.backupEnabled,
        backupInterval: config.backupInterval,
        codec,
        onWarning: context.warn,
      });
    case 'redis': {
      // The queue's own URL (the guide's storage_config.redis_url) wins over the module's Redis.
      if (config.redisUrl) {
        return new RedisDeadLetterBackend({
          // Letters may wait for the connection (bounded by the command timeout) rather than fail.
          client: createRedisClientSync({ url: config.redisUrl, commandTimeout: 2 }, { enableOfflineQueue: true }),
          ownsClient: true,
          queue,
          keyPrefix: config.keyPrefix ?? 'dlq',
          codec,
        });
      }
      if (!context.redis) {
        throw new ResilienceConfigError([
          {
            path: `${path}.storageBackend`,
            message: "is 'redis' but no Redis is configured: set resilience.redis.url or storageConfig.redisUrl",
          },
        ]);
      }
      return new RedisDeadLetterBackend({
        client: context.redis,
        queue,
        keyPrefix: config.keyPrefix ?? context.redisKeyPrefix ?? 'dlq',
        codec,
      });
    }
    case 'sqs': {
      if (!config.queueUrl) {
        throw new ResilienceConfigError([
          { path: `${path}.storageConfig.queueUrl`, message: "is required for the 'sqs' backend" },
        ]);
      }
      return new SqsDeadLetterBackend({
        queueUrl: config.queueUrl,
        region: config.region,
        endpoint: config.endpoint,
        codec,
        retentionDays: settings.retentionDays,
      });
    }
  }
}
