import { Inject, Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { createRedisClient } from '../../redis/client.js';
import { ResilienceSettings } from '../resilience-settings.js';

/** The module's Redis client, or null when no `redis` is configured. */
export const RESILIENCE_REDIS = Symbol.for('nest-resilience:RESILIENCE_REDIS');

export const redisProvider = {
  provide: RESILIENCE_REDIS,
  inject: [ResilienceSettings],
  useFactory: async (settings: ResilienceSettings): Promise<Redis | null> => {
    const redis = settings.config.redis;
    if (!redis?.url && !redis?.host) return null;
    const client = await createRedisClient(redis);
    const logger = new Logger('Resilience');
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

/** Closes the module's Redis client on shutdown, so app.close() returns promptly. */
@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Optional() @Inject(RESILIENCE_REDIS) private readonly client?: Redis | Cluster | null) {}

  onApplicationShutdown(): void {
    this.client?.disconnect();
  }
}
