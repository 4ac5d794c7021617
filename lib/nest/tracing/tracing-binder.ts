import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { TimeoutStageFactory } from '../pipeline/timeout-stage.js';
import { BulkheadService } from '../services/bulkhead.service.js';
import { CircuitBreakerService } from '../services/circuit-breaker.service.js';
import { DeadLetterService } from '../services/dead-letter.service.js';
import { RetryService } from '../services/retry.service.js';
import { errorType, type OtelTracing, RESILIENCE_TRACING } from './otel-tracing.js';

/**
 * The semantic conventions' name (1.45, as installed) for the service a client calls; it replaces the
 * deprecated `peer.service`. A breaker's and a bulkhead's service is the dependency called.
 */
const SERVER_SERVICE_NAME = 'server.service.name';

/**
 * Puts the pattern services' events on the active span (when tracing is on): a retry, a
 * breaker's rejection, a bulkhead's, a dead letter, a timeout. (The patterns defined through a descriptor, the fallback among them, tell theirs through it.) The events fire within the call, so the
 * active span is the call's. The rate limiter's denial is told by its stage (it knows the
 * verdict). Subscribes in its constructor, before any policy is built, like MetricsBinder.
 */
@Injectable()
export class TracingBinder implements OnModuleDestroy {
  private readonly unbind: (() => void)[] = [];

  constructor(
    circuits: CircuitBreakerService,
    retries: RetryService,
    deadLetters: DeadLetterService,
    bulkheads: BulkheadService,
    timeouts: TimeoutStageFactory,
    @Optional() @Inject(RESILIENCE_TRACING) tracing?: OtelTracing | null,
  ) {
    if (!tracing) return;
    this.unbind.push(
      timeouts.onTimedOut(({ service, per }) =>
        tracing.event('resilience.timeout', {
          'resilience.service': service,
          [SERVER_SERVICE_NAME]: service,
          'resilience.timeout.per': per,
        }),
      ),
      retries.subscribe({
        onRetry: (operation, { attempt, delay, error }) =>
          tracing.event('resilience.retry', {
            'resilience.operation': operation,
            'resilience.retry.attempt': attempt,
            // Seconds, as every duration in the semantic conventions.
            'resilience.retry.delay': delay,
            ...(error === undefined ? {} : { 'error.type': errorType(error) }),
          }),
      }),
      circuits.subscribe({
        onRejection: (service) => {
          const breaker = circuits.all().get(service);
          tracing.event('resilience.circuit.rejected', {
            'resilience.service': service,
            [SERVER_SERVICE_NAME]: service,
            'resilience.circuit.state': breaker?.state ?? 'open',
            ...(breaker && !breaker.isForcedOpen ? { 'resilience.circuit.retry_after': breaker.retryAfter } : {}),
          });
        },
      }),
      bulkheads.subscribe({
        onRejected: (service, reason) =>
          tracing.event('resilience.bulkhead.rejected', {
            'resilience.service': service,
            [SERVER_SERVICE_NAME]: service,
            'resilience.bulkhead.reason': reason,
          }),
      }),
      deadLetters.subscribe({
        onAdded: (queue, letter) =>
          tracing.event('resilience.dead_letter', {
            'resilience.dead_letter.queue': queue,
            'resilience.dead_letter.id': letter.id,
            'resilience.dead_letter.reason': letter.reason,
            'error.type': letter.error.code ?? letter.error.name,
          }),
      }),
    );
  }

  onModuleDestroy(): void {
    for (const unbind of this.unbind.splice(0)) unbind();
  }
}
