import type { Type } from '@nestjs/common';
import type { PatternName } from '../config/patterns/index.js';
import type { StageKind } from '../core/pipeline/order.js';
import { BulkheadStageFactory } from './pipeline/bulkhead-stage.js';
import { CircuitStageFactory } from './pipeline/circuit-stage.js';
import { DeadLetterStageFactory } from './pipeline/dead-letter-stage.js';
import { DeadlineStageFactory } from './pipeline/deadline-stage.js';
import { RateStageFactory } from './pipeline/rate-stage.js';
import { RetryStageFactory } from './pipeline/retry-stage.js';
import { TimeoutStageFactory } from './pipeline/timeout-stage.js';
import type { StageFactory } from './pipeline/types.js';
import { BulkheadService } from './services/bulkhead.service.js';
import { CircuitBreakerService } from './services/circuit-breaker.service.js';
import { DeadLetterService } from './services/dead-letter.service.js';
import { RateLimiterService } from './services/rate-limiter.service.js';
import { RetryService } from './services/retry.service.js';

/** A pattern's parts in the Nest layer: its stage kind, its settings section, its service and its stage factory. */
export interface NestPattern {
  /** Its stage's kind (its place in the call is the core's STAGE_ORDER; a timeout per attempt is 'attempt_timeout'). */
  kind: StageKind;
  /** Its section in the settings (the pattern table of lib/config/patterns), if it has one. */
  settings?: PatternName;
  /** The registry a user injects (exported by the module; a handler that injects it gets the interceptor), if it has one. */
  service?: Type<unknown>;
  /** Builds its stage for a decorated method. */
  stage: Type<StageFactory>;
}

/**
 * The pattern table of the Nest layer: the module's providers and exports, the stage factories
 * every pipeline is built from, and the services that bind the interceptor are read from here.
 */
export const NEST_PATTERNS: readonly NestPattern[] = [
  { kind: 'deadline', stage: DeadlineStageFactory },
  { kind: 'rate_limit', settings: 'rate', service: RateLimiterService, stage: RateStageFactory },
  { kind: 'dead_letter', settings: 'dlq', service: DeadLetterService, stage: DeadLetterStageFactory },
  { kind: 'circuit_breaker', settings: 'circuit', service: CircuitBreakerService, stage: CircuitStageFactory },
  { kind: 'timeout', settings: 'timeout', stage: TimeoutStageFactory },
  { kind: 'retry', settings: 'retry', service: RetryService, stage: RetryStageFactory },
  { kind: 'bulkhead', settings: 'bulkhead', service: BulkheadService, stage: BulkheadStageFactory },
];

/** Every pattern's service. */
export const PATTERN_SERVICES: Type<unknown>[] = NEST_PATTERNS.flatMap((pattern) => pattern.service ?? []);
