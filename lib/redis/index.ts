export { createRedisClient, createRedisClientSync, REDIS_DEFAULTS, redisOptions } from './client.js';
export { RedisDeadLetterBackend, type RedisDeadLetterBackendOptions } from './dlq-backend.js';
export { type RedisFailureMode, RedisRateLimitStore, type RedisRateLimitStoreOptions } from './rate-limit-store.js';
