import { Injectable } from '@nestjs/common';
import { bulkheadStage } from '../../core/pipeline/bulkhead-stage.js';
import type { Stage } from '../../core/pipeline/stage.js';
import { BulkheadService } from '../services/bulkhead.service.js';
import type { StageFactory, StagePlan } from './types.js';

/** The bulkhead of @Bulkhead, or of @Resilient's service when its settings turn one on. */
@Injectable()
export class BulkheadStageFactory implements StageFactory {
  readonly kind = 'bulkhead';

  constructor(private readonly bulkheads: BulkheadService) {}

  create({ ref, base, suffix, tier, origin }: StagePlan): Stage | undefined {
    const { resilient } = ref.metadata;
    const declared = ref.metadata.bulkhead;
    if (declared) {
      const { name, ...options } = declared.options ?? {};
      // The decorator asks for a bulkhead: on, unless it says otherwise.
      const own = { enabled: true, ...options };
      return bulkheadStage(this.bulkheads.get(`${name ?? base}${suffix}`, own, tier, origin));
    }
    if (!resilient) return undefined;
    const name = `${base}${suffix}`;
    const options = resilient.overrides?.bulkhead;
    if (!this.bulkheads.isEnabled(name, options, tier)) return undefined;
    return bulkheadStage(this.bulkheads.get(name, options, tier, origin));
  }
}
