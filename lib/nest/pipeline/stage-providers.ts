import type { Provider } from '@nestjs/common';
import { RESILIENCE_STAGE_FACTORIES } from '../tokens.js';
import { BulkheadStageFactory } from './bulkhead-stage.js';
import { CircuitStageFactory } from './circuit-stage.js';
import { DeadLetterStageFactory } from './dead-letter-stage.js';
import { PipelineBuilder } from './pipeline-builder.js';
import { RateStageFactory } from './rate-stage.js';
import { RetryStageFactory } from './retry-stage.js';
import { RolloutShares } from './rollout-shares.js';

/** One factory per pattern; a new pattern adds its factory here (the order of stages is the core's). */
const FACTORIES = [
  RateStageFactory,
  DeadLetterStageFactory,
  CircuitStageFactory,
  RetryStageFactory,
  BulkheadStageFactory,
];

export const stageProviders: Provider[] = [
  ...FACTORIES,
  { provide: RESILIENCE_STAGE_FACTORIES, useFactory: (...factories: unknown[]) => factories, inject: FACTORIES },
  RolloutShares,
  PipelineBuilder,
];
