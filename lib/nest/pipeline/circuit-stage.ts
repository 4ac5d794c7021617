import { Injectable } from '@nestjs/common';
import { circuitBreakerStage } from '../../core/pipeline/circuit-breaker-stage.js';
import type { Stage } from '../../core/pipeline/stage.js';
import { CircuitBreakerService } from '../services/circuit-breaker.service.js';
import type { StageFactory, StagePlan } from './types.js';

/** The breaker of @CircuitBreaker (or of @Resilient's service). */
@Injectable()
export class CircuitStageFactory implements StageFactory {
  readonly kind = 'circuit_breaker';

  constructor(private readonly circuits: CircuitBreakerService) {}

  create({ ref, base, suffix, tier, origin }: StagePlan): Stage | undefined {
    const { resilient } = ref.metadata;
    const circuit =
      ref.metadata.circuit ?? (resilient ? { name: base, options: resilient.overrides?.circuit } : undefined);
    if (!circuit) return undefined;
    return circuitBreakerStage(this.circuits.get(`${circuit.name ?? base}${suffix}`, circuit.options, tier, origin));
  }
}
