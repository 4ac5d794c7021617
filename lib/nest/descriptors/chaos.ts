import { z } from 'zod';
import { chaosStage } from '../../core/chaos/chaos-stage.js';
import { ChaosExperiments } from '../chaos/chaos-experiments.js';
import { definePattern } from './pattern-descriptor.js';

/**
 * Chaos on purpose: a pattern defined through its descriptor alone. Its stage sits on every
 * decorated method when `chaos.enabled` is true (none otherwise: no cost), innermost, and
 * injects the faults of the experiments running for the method's service and arm.
 */
export const chaosPattern = definePattern<object, { fault: string; experiment: string }>({
  name: 'chaos',
  kind: 'chaos',
  everyMethod: true,
  // Experiments are started through `chaos.experiments` and the admin API, not per method.
  schema: z.strictObject({}),
  stage({ get, base, arm, clock, emit }) {
    const experiments = get(ChaosExperiments);
    if (!experiments.enabled) return undefined;
    return chaosStage({
      experiments: experiments.reader(base, arm),
      clock,
      onInjected: (experiment) => emit({ fault: experiment.fault.kind, experiment: experiment.id }),
    });
  },
  metrics: [
    { name: 'chaos_injections_total', help: 'Faults injected by chaos experiments, by fault', labels: ['fault'] },
  ],
  spanEvent: 'resilience.chaos',
});
