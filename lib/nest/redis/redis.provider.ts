import { Inject, Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClientLike } from '../../config/schema.js';
import { createRedisConnection } from '../../redis/client.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_REDIS } from '../tokens.js';

export { RESILIENCE_REDIS } from '../tokens.js';

/** Clients the module opened itself, and so closes at shutdown (never the application's own). */
const opened = new WeakSet<object>();

/**
 * The application's own client (`redis.client`, or the `redisClient` option) is used as it is,
 * never closed by the module. Its options are the application's: a client that queues
 * commands while Redis is down, or has no command timeout, could hold a request during an
 * outage, so that is logged once at bootstrap.
 */
function adopt(client: RedisClientLike, logger: Logger): Redis | Cluster {
  const options = (client as unknown as { options?: Record<string, unknown> }).options ?? {};
  const perNode = (options.redisOptions as Record<string, unknown> | undefined) ?? options;
  const risks: string[] = [];
  if (options.enableOfflineQueue !== false)
    risks.push('enableOfflineQueue is not false (commands wait while Redis is down)');
  if (!perNode.commandTimeout) risks.push('there is no commandTimeout (a command can wait for ever)');
  if (risks.length > 0) {
    logger.warn(
      `the Redis client given to ResilienceModule is used as it is, and ${risks.join('; ')}: during an outage a rate-limit decision may wait instead of failing over to the failure mode. For fast failure: enableOfflineQueue: false, commandTimeout: 500`,
    );
  }
  return client as unknown as Redis | Cluster;
}

export const redisProvider = {
  provide: RESILIENCE_REDIS,
  inject: [ResilienceSettings],
  useFactory: async (settings: ResilienceSettings): Promise<Redis | Cluster | null> => {
    const redis = settings.config.redis;
    const logger = new Logger('Resilience');
    // `redis.client`, or the `redisClient` option (ResilienceSettings puts it there).
    if (redis?.client) return adopt(redis.client, logger);
    if (!redis?.url && !redis?.host && !redis?.cluster && !redis?.sentinels) return null;
    const client = await createRedisConnection(redis);
    opened.add(client);
    let reported = false;
    // One line per outage, not one per reconnect attempt.
    client.on('error', (error: Error) => {
      if (!reported) logger.warn(`Redis unavailable (${error.message}); limiters use their failure mode`);
      reported = true;
    });
    client.on('ready', () => {
      if (reported) logger.log('Redis is back');
      reported = false;
    });
    return client;
  },
};

/** Closes the module's own Redis client on shutdown, so app.close() returns promptly. */
@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Optional() @Inject(RESILIENCE_REDIS) private readonly client?: Redis | Cluster | null) {}

  onApplicationShutdown(): void {
    if (this.client && opened.has(this.client)) this.client.disconnect();
  }
}
