export { createRedisClient, createRedisClientSync, REDIS_DEFAULTS, redisOptions } from './client.js';
export { RedisDeadLetterBackend, type RedisDeadLetterBackendOptions } from './dlq-backend.js';
export { type RedisFailureMode, RedisRateLimitStore, type RedisRateLimitStoreOptions } from './rate-limit-store.js';
export { CircuitFleet, type CircuitFleetOptions, type FleetState } from './shared-circuit/circuit-fleet.js';
export {
  QuorumCircuitBreaker,
  type QuorumCircuitBreakerOptions,
  type QuorumRule,
} from './shared-circuit/quorum-breaker.js';
export { SharedCircuitBreaker, type SharedCircuitBreakerOptions } from './shared-circuit/shared-breaker.js';
