/** Token of the ConfigService key read when forRoot() gets no configuration. */
export const RESILIENCE_CONFIG_KEY = Symbol.for('nest-resilience:RESILIENCE_CONFIG_KEY');

/** Provides the RolloutFlag the runtime reads (the `rolloutFlag` option of forRoot). */
export const RESILIENCE_ROLLOUT = Symbol.for('nest-resilience:RESILIENCE_ROLLOUT');

/** Where ResilienceInterceptor runs (the `interceptor` option of forRoot). */
export const RESILIENCE_INTERCEPTOR_MODE = Symbol.for('nest-resilience:RESILIENCE_INTERCEPTOR_MODE');

/** A RateLimitStore of the user's own (the `rateLimitStore` option of forRoot). */
export const RESILIENCE_RATE_LIMIT_STORE = Symbol.for('nest-resilience:RESILIENCE_RATE_LIMIT_STORE');

/** A dead-letter backend factory of the user's own (the `deadLetterBackend` option of forRoot). */
export const RESILIENCE_DLQ_BACKEND = Symbol.for('nest-resilience:RESILIENCE_DLQ_BACKEND');

/** The stage factories (one per pattern) every pipeline is built from, in no particular order. */
export const RESILIENCE_STAGE_FACTORIES = Symbol.for('nest-resilience:RESILIENCE_STAGE_FACTORIES');

/** The application's own ioredis client (the `redisClient` option of forRoot: a client, or the token of one). */
export const RESILIENCE_USER_REDIS = Symbol.for('nest-resilience:RESILIENCE_USER_REDIS');
