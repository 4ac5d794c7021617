import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { SpooledDeadLetterBackend } from '../../core/dead-letter/spooled-backend.js';
import { QuorumCircuitBreaker } from '../../redis/shared-circuit/quorum-breaker.js';
import { DeadlineStageFactory } from '../pipeline/deadline-stage.js';
import { RolloutProgress } from '../pipeline/rollout-progress.js';
import { TimeoutStageFactory } from '../pipeline/timeout-stage.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { BulkheadService } from '../services/bulkhead.service.js';
import { CircuitBreakerService } from '../services/circuit-breaker.service.js';
import { DeadLetterService } from '../services/dead-letter.service.js';
import { RateLimiterService } from '../services/rate-limiter.service.js';
import { RetryService } from '../services/retry.service.js';
import { RESILIENCE_METRICS } from '../tokens.js';
import { ResilienceMetrics } from './resilience-metrics.js';

export { RESILIENCE_METRICS } from '../tokens.js';

/**
 * Connects the pattern services of this application to the metrics (when metrics are
 * on). It subscribes in its constructor, before any onModuleInit builds a policy, so
 * every policy is created knowing its observers.
 */
@Injectable()
export class MetricsBinder implements OnModuleDestroy {
  private readonly unbind: (() => void)[] = [];

  constructor(
    circuits: CircuitBreakerService,
    retries: RetryService,
    rates: RateLimiterService,
    deadLetters: DeadLetterService,
    bulkheads: BulkheadService,
    timeouts: TimeoutStageFactory,
    deadlines: DeadlineStageFactory,
    settings: ResilienceSettings,
    progress: RolloutProgress,
    @Optional() @Inject(RESILIENCE_METRICS) metrics?: ResilienceMetrics | null,
  ) {
    if (!metrics) return;
    this.unbind.push(
      progress.onJudgment(({ service, decision }) => {
        if (decision !== 'waited') metrics.config.rolloutDecisions.inc({ service, decision });
      }),
      settings.onReload(({ result }) => metrics.config.reloads.inc({ result })),
      metrics.config.add(() => settings.version),
      timeouts.onTimedOut(({ service, per }) => metrics.timeouts.inc({ service, per })),
      deadlines.onExceeded(({ service }) => metrics.deadlinesExceeded.inc({ service })),
      metrics.addCircuitStates(() => [...circuits.all()].map(([name, breaker]) => [name, breaker.state])),
      circuits.subscribe({
        onFailure: (service) => metrics.circuitFailures.inc({ service }),
        onRejection: (service) => metrics.circuitRejections.inc({ service }),
        onStateChange: (from, to, service) => metrics.circuitTransitions.inc({ service, from, to }),
      }),
      circuits.onStoreError(({ name }) => metrics.fleet.storeErrors.inc({ service: name })),
      metrics.fleet.add(() =>
        [...circuits.all()]
          .filter((entry): entry is [string, QuorumCircuitBreaker] => entry[1] instanceof QuorumCircuitBreaker)
          .map(([name, b]) => [name, b.fleetCount.live, b.fleetCount.open] as [string, number, number]),
      ),
      retries.subscribe({
        onRetry: (operation) => metrics.retries.inc({ operation }),
        onComplete: (operation, attempts) => metrics.retryAttempts.observe({ operation }, attempts),
      }),
      metrics.addQueues(async () =>
        Promise.all(
          [...deadLetters.all().values()].map(async (q) => {
            const spooled = q.backend instanceof SpooledDeadLetterBackend ? q.backend.spoolSize : undefined;
            try {
              return [q.name, await q.size(), await q.oldestAge(), spooled] as [string, number, number, typeof spooled];
            } catch {
              return [q.name, Number.NaN, Number.NaN, spooled] as [string, number, number, typeof spooled];
            }
          }),
        ),
      ),
      deadLetters.subscribe({
        onAdded: (queue) => metrics.dlqAdded.inc({ queue }),
        onDamaged: (queue) => metrics.dlqDamaged.inc({ queue }),
        onSpoolDrained: (queue, count) => metrics.dlqSpoolDrained.inc({ queue }, count),
        onReplayed: (queue, ok) => metrics.dlqReplayed.inc({ queue, outcome: ok ? 'succeeded' : 'failed' }),
      }),
      metrics.bulkheads.add(() =>
        [...bulkheads.all()].map(
          ([name, b]) => [name, b.inFlight, b.limit, b.queued] as [string, number, number, number],
        ),
      ),
      bulkheads.subscribe({
        onRejected: (service, reason, criticality) => {
          metrics.bulkheads.rejections.inc({ service, reason });
          metrics.bulkheads.rejectionsByCriticality.inc({ service, criticality });
        },
        onLimitSwing: (service, { direction, reason }) => metrics.bulkheads.swings.inc({ service, direction, reason }),
      }),
      rates.subscribe({
        onDecision: (key, allowed) => {
          metrics.requests.inc({ key });
          if (!allowed) metrics.rateLimitRejections.inc({ key });
        },
        onRefused: (key, criticality) => metrics.rateLimitRejectionsByCriticality.inc({ key, criticality }),
      }),
    );
  }

  onModuleDestroy(): void {
    for (const unbind of this.unbind.splice(0)) unbind();
  }
}
