import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import { CircuitBreakerService } from '../services/circuit-breaker.service.js';
import { ResilienceMetrics } from './resilience-metrics.js';

export const RESILIENCE_METRICS = Symbol('RESILIENCE_METRICS');

/** Connects the pattern services of this application to the metrics (when metrics are on). */
@Injectable()
export class MetricsBinder implements OnModuleInit, OnModuleDestroy {
  private readonly unbind: (() => void)[] = [];

  constructor(
    private readonly circuits: CircuitBreakerService,
    @Optional() @Inject(RESILIENCE_METRICS) private readonly metrics?: ResilienceMetrics | null,
  ) {}

  onModuleInit(): void {
    const metrics = this.metrics;
    if (!metrics) return;
    this.unbind.push(
      metrics.addCircuitStates(() => [...this.circuits.all()].map(([name, breaker]) => [name, breaker.state])),
      this.circuits.subscribe({
        onFailure: (service) => metrics.circuitFailures.inc({ service }),
        onRejection: (service) => metrics.circuitRejections.inc({ service }),
        onStateChange: (from, to, service) => metrics.circuitTransitions.inc({ service, from, to }),
      }),
    );
  }

  onModuleDestroy(): void {
    for (const unbind of this.unbind.splice(0)) unbind();
  }
}
