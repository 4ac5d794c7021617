import type { Redis, RedisOptions } from 'ioredis';
import type { RedisSettings } from '../config/types.js';
import { toMilliseconds } from '../core/duration.js';
import { packageRequire } from '../runtime/package-require.js';

/** Defaults chosen so that a Redis outage fails a command fast instead of hanging a request. */
export const REDIS_DEFAULTS = { commandTimeout: 0.5, connectTimeout: 2 } as const;

/** ioredis options for our settings: no offline queue, a command timeout, bounded reconnect back-off. */
export function redisOptions(settings: RedisSettings): RedisOptions {
  return {
    host: settings.host,
    port: settings.port,
    username: settings.username,
    password: settings.password,
    db: settings.db,
    ...(settings.tls ? { tls: {} } : {}),
    enableOfflineQueue: false,
    commandTimeout: toMilliseconds(settings.commandTimeout ?? REDIS_DEFAULTS.commandTimeout, 'redis.commandTimeout'),
    connectTimeout: toMilliseconds(settings.connectTimeout ?? REDIS_DEFAULTS.connectTimeout, 'redis.connectTimeout'),
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    // disconnect() waits for a socket's 'close' to clear this timer, but a socket that had
    // already failed (Redis down) never closes again: the default 2 s held the process alive.
    disconnectTimeout: 100,
  };
}

/**
 * Opens an ioredis client from settings. ioredis is an optional peer dependency,
 * loaded only here, so applications without Redis never need it.
 * Resolves once the connection is ready, at its first error, or after `connectTimeout`:
 * Redis being down at boot must neither stop nor delay the app (the failure mode
 * decides what limiters do meanwhile), and the client keeps reconnecting in the background.
 */
export async function createRedisClient(settings: RedisSettings): Promise<Redis> {
  let RedisClass: typeof import('ioredis').Redis;
  try {
    ({ Redis: RedisClass } = await import('ioredis'));
  } catch (error) {
    throw new Error('Redis is configured but the optional peer dependency "ioredis" is not installed: npm i ioredis', {
      cause: error,
    });
  }
  const options = redisOptions(settings);
  const client = settings.url ? new RedisClass(settings.url, options) : new RedisClass(options);
  // A listener from the first moment: without one ioredis prints "Unhandled error event".
  const early = () => undefined;
  client.on('error', early);
  await whenReady(client, options.connectTimeout ?? 2000);
  client.off('error', early);
  return client;
}

/**
 * One log line per outage (not one per reconnect attempt) and one when Redis is back; also
 * keeps ioredis from printing "Unhandled error event" for a client nobody else listens to.
 */
export function reportRedisErrorsOnce(
  client: { on(event: string, listener: (...args: never[]) => void): unknown },
  log: (message: string) => void,
): void {
  let reported = false;
  client.on('error', (error: Error) => {
    if (!reported) log(`Redis unavailable (${error.message})`);
    reported = true;
  });
  client.on('ready', () => {
    if (reported) log('Redis is back');
    reported = false;
  });
}

function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    client.once('ready', done);
    client.once('error', done);
  });
}

/**
 * An ioredis client made synchronously (it connects in the background); for code that
 * cannot wait, such as a dead-letter queue created on first use. Same options as
 * createRedisClient, with `overrides` on top.
 */
export function createRedisClientSync(settings: RedisSettings, overrides: Partial<RedisOptions> = {}): Redis {
  let RedisClass: typeof import('ioredis').Redis;
  try {
    ({ Redis: RedisClass } = packageRequire('ioredis') as typeof import('ioredis'));
  } catch (error) {
    throw new Error('Redis is configured but the optional peer dependency "ioredis" is not installed: npm i ioredis', {
      cause: error,
    });
  }
  const options = { ...redisOptions(settings), ...overrides };
  return settings.url ? new RedisClass(settings.url, options) : new RedisClass(options);
}
