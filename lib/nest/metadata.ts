import type { CircuitSettings, DlqSettings, PatternSettings, RetrySettings } from '../config/types.js';
import type { Criticality } from '../core/criticality.js';
import type { Duration } from '../core/duration.js';
import type { RateLimitKeyContext } from './context/rate-limit-key.js';
import type {
  BulkheadDecoratorOptions,
  RateLimitOptions,
  TimeoutDecoratorOptions,
} from './decorators/decorator-options.js';

/** What our decorators record on a method; decorators merge into one object, so their order does not matter. */
export interface ResilienceMethodMetadata {
  circuit?: { name?: string; options?: CircuitSettings };
  retry?: { options?: (RetrySettings & { service?: string; operation?: string }) | string };
  rate?: { options?: RateLimitOptions };
  dlq?: { queue?: string; options?: DlqSettings };
  bulkhead?: { options?: BulkheadDecoratorOptions };
  timeout?: { options?: TimeoutDecoratorOptions };
  deadline?: { duration: Duration };
  criticality?: { level: Criticality };
  /** The options of the decorators of patterns defined with definePattern, by pattern name. */
  patterns?: Record<string, object>;
  resilient?: {
    name: string;
    tier?: string;
    overrides?: PatternSettings;
    rolloutKey?: (context: RateLimitKeyContext) => string | undefined;
  };
}

export const RESILIENCE_METADATA = Symbol.for('nest-resilience:method');
/** Marks our wrapper; holds the original method. */
export const ORIGINAL_METHOD = Symbol.for('nest-resilience:original');
/** Set on instances (and classes, for request-scoped providers) at bootstrap: the app's runtime. */
export const RUNTIME = Symbol.for('nest-resilience:runtime');

export function getResilienceMetadata(method: unknown): ResilienceMethodMetadata | undefined {
  if (typeof method !== 'function') return undefined;
  return Reflect.getMetadata(RESILIENCE_METADATA, method) as ResilienceMethodMetadata | undefined;
}
