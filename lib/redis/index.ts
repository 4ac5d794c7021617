export { createRedisClient, REDIS_DEFAULTS, redisOptions } from './client.js';
export { type RedisFailureMode, RedisRateLimitStore, type RedisRateLimitStoreOptions } from './rate-limit-store.js';
