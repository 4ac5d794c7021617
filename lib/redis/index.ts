export { createRedisClient, REDIS_DEFAULTS, redisOptions } from './client.js';
