import type { Provider } from '@nestjs/common';
// Importing the table defines the built-in descriptor patterns before DescriptorStages reads them.
import { InboundDeadlines } from '../context/inbound-deadlines.js';
import { DescriptorStages, ExtraAttemptBudgets } from '../descriptors/index.js';
import { NEST_PATTERNS } from '../patterns.js';
import { RESILIENCE_STAGE_FACTORIES } from '../tokens.js';
import { PipelineBuilder } from './pipeline-builder.js';
import { RolloutProgress } from './rollout-progress.js';
import { RolloutShares } from './rollout-shares.js';

/** One factory per pattern, from the pattern table (the order of stages is the core's). */
const FACTORIES = NEST_PATTERNS.map((pattern) => pattern.stage);

export const stageProviders: Provider[] = [
  ...FACTORIES,
  { provide: RESILIENCE_STAGE_FACTORIES, useFactory: (...factories: unknown[]) => factories, inject: FACTORIES },
  ExtraAttemptBudgets,
  InboundDeadlines,
  DescriptorStages,
  RolloutShares,
  RolloutProgress,
  PipelineBuilder,
];
