import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import type { ResolvedDlqSettings } from '../../config/resolved-types.js';
import { LetterCodec } from '../../core/dead-letter/codec.js';
import { FileDeadLetterBackend } from '../../core/dead-letter/file-backend.js';
import { DeadLetterLockError } from '../../core/dead-letter/file-lock.js';
import { MemoryDeadLetterBackend } from '../../core/dead-letter/memory-backend.js';
import { SpooledDeadLetterBackend } from '../../core/dead-letter/spooled-backend.js';
import type { DeadLetterBackend } from '../../core/dead-letter/types.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { createRedisClientSync, reportRedisErrorsOnce } from '../../redis/client.js';
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

/** Characters a queue name may have: it becomes a file name, a Redis key and a metric label. */
export const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function checkQueueName(queue: string): void {
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue) || queue.includes('..')) {
    throw new ResilienceConfigError([
      {
        path: `deadLetter queue ${JSON.stringify(queue)}`,
        message:
          'is not a valid queue name: 1 to 128 letters, digits, "_", ".", ":" or "-", starting with a letter or digit, no ".."',
      },
    ]);
  }
}

/**
 * The file path of one queue's log: its own folder under a folder, or beside a named
 * file; never outside that folder, whatever the name.
 */
function filePathFor(queue: string, base: string): string {
  checkQueueName(queue);
  const folder = extname(base) === '' ? base : dirname(base);
  const path =
    extname(base) === '' ? join(base, queue) : join(dirname(base), `${basename(base, extname(base))}.${queue}.log`);
  const inside = relative(resolve(folder), resolve(path));
  if (inside === '' || inside.startsWith('..') || resolve(inside) === inside) {
    throw new ResilienceConfigError([{ path: `deadLetter queue "${queue}"`, message: `leaves the folder ${folder}` }]);
  }
  return path;
}

export interface BackendContext {
  redis?: Redis | Cluster | null;
  redisKeyPrefix?: string;
  warn: (message: string) => void;
}

/**
 * A queue's keys always live under the app's `redis.keyPrefix`: a preset's own prefix
 * (production's `prod_dlq`) goes under it, so two apps on one Redis never share a queue.
 */
export function dlqKeyPrefix(appPrefix: string | undefined, queuePrefix: string | undefined): string {
  const own = queuePrefix ?? 'dlq';
  return appPrefix ? `${appPrefix}:${own}` : own;
}

/**
 * A spool is one writer's file log. Replicas sharing a folder (PM2 cluster mode, two apps
 * in one process) each take the first free slot: `<queue>`, then `<queue>~1` ... A slot
 * left by a crashed replica is taken by the next one, which drains what it held.
 */
function openSpool(queue: string, folder: string, codec: LetterCodec, context: BackendContext): FileDeadLetterBackend {
  const base = filePathFor(queue, folder);
  for (let slot = 0; ; slot++) {
    try {
      return new FileDeadLetterBackend({
        filePath: slot === 0 ? base : `${base}~${slot}`,
        codec,
        queue,
        onWarning: context.warn,
      });
    } catch (error) {
      if (!(error instanceof DeadLetterLockError) || slot >= 63) throw error;
    }
  }
}

/** The Redis backend behind a local spool (unless the spool is turned off). */
function spooled(
  queue: string,
  primary: RedisDeadLetterBackend,
  client: Redis | Cluster,
  settings: ResolvedDlqSettings,
  codec: LetterCodec,
  context: BackendContext,
): DeadLetterBackend {
  const spool = settings.storageConfig.spool;
  if (spool?.enabled === false) return primary;
  const folder = spool?.path ?? join('./.data/dlq-spool', context.redisKeyPrefix ?? '');
  const backend = new SpooledDeadLetterBackend({
    primary,
    spool: openSpool(queue, folder, codec, context),
    maxLetters: spool?.maxLetters,
    onWarning: (m) => context.warn(`dead-letter queue "${queue}": ${m}`),
  });
  void backend.open().catch((e) => context.warn(`dead-letter spool of "${queue}": ${(e as Error).message}`));
  // Drains the moment Redis is back, not at the next tick of the timer.
  client.on('ready', () => void backend.drain().catch(() => undefined));
  return backend;
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
        queue,
        backupEnabled: config.backupEnabled,
        backupInterval: config.backupInterval,
        codec,
        onWarning: context.warn,
      });
    case 'redis': {
      // The queue's own URL (the guide's storage_config.redis_url) wins over the module's Redis.
      if (config.redisUrl) {
        // The same fast-fail options as the module's own client: an outage fails a command at
        // once (the letter goes to the spool) instead of holding the call.
        const client = createRedisClientSync({ url: config.redisUrl });
        reportRedisErrorsOnce(client, (m) => context.warn(`dead-letter queue "${queue}": ${m}`));
        const primary = new RedisDeadLetterBackend({
          client,
          ownsClient: true,
          queue,
          keyPrefix: dlqKeyPrefix(context.redisKeyPrefix, config.keyPrefix),
          codec,
        });
        return spooled(queue, primary, client, settings, codec, context);
      }
      if (!context.redis) {
        throw new ResilienceConfigError([
          {
            path: `${path}.storageBackend`,
            message: "is 'redis' but no Redis is configured: set resilience.redis.url or storageConfig.redisUrl",
          },
        ]);
      }
      const primary = new RedisDeadLetterBackend({
        client: context.redis,
        queue,
        keyPrefix: dlqKeyPrefix(context.redisKeyPrefix, config.keyPrefix),
        codec,
      });
      return spooled(queue, primary, context.redis, settings, codec, context);
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
