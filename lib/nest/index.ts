export type { ResilienceAdminOptions } from './admin/admin-options.js';
export { type ChaosExperimentSpec, ChaosExperiments, type ChaosExperimentView } from './chaos/chaos-experiments.js';
export { type CallContextStore, callContext } from './context/call-context.js';
export { currentCallSignal } from './context/call-signal.js';
export {
  type AxiosRequestLike,
  currentCriticality,
  currentDeadline,
  deadlineAxiosInterceptor,
  deadlineHeaders,
  resilientFetch,
} from './context/deadline-propagation.js';
export {
  type BuiltInKeyOptions,
  builtInKey,
  clientIp,
  type KeyRequest,
  type RateLimitKeyContext,
} from './context/rate-limit-key.js';
export { type GraphQLResilienceCode, GraphQLResilienceError } from './context/transport-errors.js';
export { Bulkhead, type BulkheadDecoratorOptions } from './decorators/bulkhead.decorator.js';
export { CircuitBreaker } from './decorators/circuit-breaker.decorator.js';
export { Criticality } from './decorators/criticality.decorator.js';
export { DeadLetter } from './decorators/dead-letter.decorator.js';
export { Deadline } from './decorators/deadline.decorator.js';
export { Fallback, type FallbackDecoratorOptions } from './decorators/fallback.decorator.js';
export { RateLimit, type RateLimitOptions } from './decorators/rate-limit.decorator.js';
export { Resilient, type ResilientOptions } from './decorators/resilient.decorator.js';
export { Retry } from './decorators/retry.decorator.js';
export { Timeout, type TimeoutDecoratorOptions } from './decorators/timeout.decorator.js';
export {
  Coalesce,
  type CoalesceOptions,
  type DefinedPattern,
  definePattern,
  ExtraAttemptBudgets,
  Hedge,
  type HedgeOptions,
  type PatternDescriptor,
  type PatternMetric,
  type PatternStageInput,
} from './descriptors/index.js';
export {
  type HealthStatus,
  ResilienceHealthIndicator,
  type ResilienceHealthResult,
} from './health/resilience-health.indicator.js';
export type { InterceptorMode } from './http/interceptor-binding.js';
export { type RateLimitHeaderStyle, rateLimitHeaders } from './http/rate-limit-headers.js';
export { ResilienceInterceptor, retryAfterHeader } from './http/resilience.interceptor.js';
export { RESILIENCE_METRICS } from './metrics/metrics-binder.js';
export { ResilienceMetrics } from './metrics/resilience-metrics.js';
export type { RolloutFlag } from './pipeline/rollout-chooser.js';
export { type RolloutJudgment, RolloutProgress } from './pipeline/rollout-progress.js';
export { type RolloutShare, RolloutShares } from './pipeline/rollout-shares.js';
export { RESILIENCE_REDIS } from './redis/redis.provider.js';
export { ConfigReloads, type ReloadRecord } from './reload/config-reloads.js';
export { type FleetConfigView, FleetReloads } from './reload/fleet-reloads.js';
export { FROZEN_SECTIONS } from './reload/frozen-sections.js';
export type { ReloadParticipant, ReloadResult, ReloadStep } from './reload/reload-types.js';
export { ResilienceModule } from './resilience.module.js';
export {
  type DeadLetterBackendFactory,
  RESILIENCE_MODULE_OPTIONS,
  RESILIENCE_ROLLOUT,
  type ResilienceModuleExtras,
} from './resilience.module-definition.js';
export { ResilienceSettings } from './resilience-settings.js';
export { type BulkheadListener, BulkheadService } from './services/bulkhead.service.js';
export { CircuitBreakerService } from './services/circuit-breaker.service.js';
export {
  type DeadLetterHandler,
  type DeadLetterListener,
  DeadLetterService,
  UnknownDeadLetterQueueError,
} from './services/dead-letter.service.js';
export { DLQ_KEY_ENV } from './services/dead-letter-backends.js';
export {
  RateLimiterService,
  RateLimiterShutdownError,
  type RateLimitListener,
} from './services/rate-limiter.service.js';
export { ResilienceService, type ResilientCallOptions } from './services/resilience.service.js';
export {
  ApplicationShutdownError,
  type RetryCallOptions,
  type RetryListener,
  RetryService,
} from './services/retry.service.js';
export { RESILIENCE_CLOCK, RESILIENCE_SLEEP } from './timing.js';
