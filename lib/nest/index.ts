export { CircuitBreaker } from './decorators/circuit-breaker.decorator.js';
export { Retry } from './decorators/retry.decorator.js';
export {
  type HealthStatus,
  ResilienceHealthIndicator,
  type ResilienceHealthResult,
} from './health/resilience-health.indicator.js';
export { ResilienceInterceptor, retryAfterHeader } from './http/resilience.interceptor.js';
export { RESILIENCE_METRICS } from './metrics/metrics-binder.js';
export { ResilienceMetrics } from './metrics/resilience-metrics.js';
export { ResilienceModule } from './resilience.module.js';
export {
  RESILIENCE_MODULE_OPTIONS,
  type ResilienceModuleExtras,
} from './resilience.module-definition.js';
export { ResilienceSettings } from './resilience-settings.js';
export { CircuitBreakerService } from './services/circuit-breaker.service.js';
export {
  ApplicationShutdownError,
  type RetryCallOptions,
  type RetryListener,
  RetryService,
} from './services/retry.service.js';
export { RESILIENCE_CLOCK, RESILIENCE_SLEEP } from './timing.js';
