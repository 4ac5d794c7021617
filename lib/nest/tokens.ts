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

/** The operator console settings, when the console is enabled. */
export const RESILIENCE_ADMIN = Symbol.for('nest-resilience:RESILIENCE_ADMIN');

/** The module's Redis client, or null when no `redis` is configured. */
export const RESILIENCE_REDIS = Symbol.for('nest-resilience:RESILIENCE_REDIS');

/** The OpenTelemetry tracer binding, or null when tracing is off. */
export const RESILIENCE_TRACING = Symbol.for('nest-resilience:RESILIENCE_TRACING');

/** The module's metrics (Prometheus and/or OpenTelemetry), or null when metrics are off. */
export const RESILIENCE_METRICS = Symbol.for('nest-resilience:RESILIENCE_METRICS');

/** The clock every pattern reads (injectable: overrideProvider(RESILIENCE_CLOCK).useValue(new ManualClock()) makes time exact). */
export const RESILIENCE_CLOCK = Symbol.for('nest-resilience:RESILIENCE_CLOCK');

/** The sleep every wait uses (injectable with RESILIENCE_CLOCK). */
export const RESILIENCE_SLEEP = Symbol.for('nest-resilience:RESILIENCE_SLEEP');

/** The module's trace recorder, or null when `trace` is not configured. */
export const RESILIENCE_TRACE = Symbol.for('nest-resilience:RESILIENCE_TRACE');
