import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
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
    // A command whose reply was lost fails ("Connection is closed") instead of being sent
    // again by ioredis: the sender repeats it with the same operation id (op-ids.ts), so a
    // script that ran before the connection dropped runs once. (ioredis's own re-send fails
    // with "Stream isn't writeable" when the offline queue is off, hiding that it may have run.)
    autoResendUnfulfilledCommands: false,
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
export async function createRedisClient(settings: Omit<RedisSettings, 'cluster'>): Promise<Redis> {
  return (await createRedisConnection(settings)) as Redis;
}

/** Like createRedisClient, and a `Cluster` when the settings name `cluster`. */
export async function createRedisConnection(settings: RedisSettings): Promise<Redis | Cluster> {
  let ioredis: IoRedis;
  try {
    const { Redis: RedisClass, Cluster } = await import('ioredis');
    ioredis = { Redis: RedisClass, Cluster };
  } catch (error) {
    throw new Error('Redis is configured but the optional peer dependency "ioredis" is not installed: npm i ioredis', {
      cause: error,
    });
  }
  const options = redisOptions(settings);
  const client = connect(ioredis, settings, options);
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

interface IoRedis {
  Redis: typeof import('ioredis').Redis;
  Cluster: typeof import('ioredis').Cluster;
}

/** One client for the connection the settings name: a URL or host, a Cluster, or Sentinel. */
function connect(ioredis: IoRedis, settings: RedisSettings, options: RedisOptions): Redis | Cluster {
  if (settings.cluster) {
    const nodes = settings.cluster.nodes.map((node) => {
      if (typeof node !== 'string') return node;
      const at = node.lastIndexOf(':');
      return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
    });
    const { host: _host, port: _port, db: _db, ...perNode } = options;
    const clusterOptions: ClusterOptions = {
      ...(settings.cluster.options as ClusterOptions | undefined),
      // The fast-fail settings win over the ones given: an outage must never hang a request.
      enableOfflineQueue: false,
      clusterRetryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      redisOptions: { ...(settings.cluster.options?.redisOptions as RedisOptions | undefined), ...perNode },
    };
    return new ioredis.Cluster(nodes, clusterOptions);
  }
  if (settings.sentinels) {
    const { host: _host, port: _port, ...rest } = options;
    return new ioredis.Redis({ ...rest, sentinels: settings.sentinels, name: settings.name });
  }
  return settings.url ? new ioredis.Redis(settings.url, options) : new ioredis.Redis(options);
}

function whenReady(client: Redis | Cluster, timeoutMs: number): Promise<void> {
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
