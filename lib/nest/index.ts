export { CircuitBreaker } from './decorators/circuit-breaker.decorator.js';
export { ResilienceInterceptor, retryAfterHeader } from './http/resilience.interceptor.js';
export { ResilienceModule } from './resilience.module.js';
export {
  RESILIENCE_MODULE_OPTIONS,
  type ResilienceModuleExtras,
} from './resilience.module-definition.js';
export { ResilienceSettings } from './resilience-settings.js';
export { CircuitBreakerService } from './services/circuit-breaker.service.js';
