// The patterns defined through their descriptor alone: importing this file defines them.
export { chaosPattern } from './chaos.js';
export { Coalesce, type CoalesceOptions, coalescePattern } from './coalesce.js';
export { DescriptorStages } from './descriptor-stages.js';
export { DEFAULT_BUDGET, ExtraAttemptBudgets } from './extra-attempt-budgets.js';
export { fallbackPattern } from './fallback.js';
export { Hedge, type HedgeOptions, hedgePattern } from './hedge.js';
export {
  type DefinedPattern,
  definedPatterns,
  definePattern,
  type PatternDescriptor,
  type PatternMetric,
  type PatternStageInput,
} from './pattern-descriptor.js';
