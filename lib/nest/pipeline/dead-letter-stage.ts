import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Clock } from '../../core/clock.js';
import { deadLetterStage } from '../../core/pipeline/dead-letter-stage.js';
import type { Stage } from '../../core/pipeline/stage.js';
import type { MethodRef } from '../decorators/wrap-method.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { DeadLetterService } from '../services/dead-letter.service.js';
import { lettersClock, RESILIENCE_CLOCK } from '../timing.js';
import { type OtelTracing, RESILIENCE_TRACING } from '../tracing/otel-tracing.js';
import type { StageFactory, StagePlan } from './types.js';

/** The W3C trace id (traceparent) or the X-Request-Id of the current request, if any. */
function traceIdOf(request: unknown): string | undefined {
  const headers = (request as { headers?: Record<string, unknown> } | undefined)?.headers;
  const traceparent = headers?.traceparent;
  if (typeof traceparent === 'string') return traceparent.split('-')[1];
  const requestId = headers?.['x-request-id'];
  return typeof requestId === 'string' ? requestId : undefined;
}

/** The dead letter of @DeadLetter (or of @Resilient's service, when its settings enable one). */
@Injectable()
export class DeadLetterStageFactory implements StageFactory {
  readonly kind = 'dead_letter';
  private readonly logger = new Logger('Resilience');

  constructor(
    private readonly deadLetters: DeadLetterService,
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Optional() @Inject(RESILIENCE_TRACING) private readonly tracing?: OtelTracing | null,
  ) {}

  /** The queue a method's failures go to, if it has a dead-letter stage. */
  queueOf(ref: MethodRef): string | undefined {
    const { dlq, resilient } = ref.metadata;
    if (dlq) return dlq.queue ?? resilient?.name ?? ref.className;
    if (!resilient) return undefined;
    const resolved = this.settings.resolve(resilient.name, { tier: resilient.tier, dlq: resilient.overrides?.dlq });
    return resolved.dlq.enabled ? resolved.dlq.queue : undefined;
  }

  create(plan: StagePlan): Stage | undefined {
    const { ref, base, service, tier, origin } = plan;
    const queueName = this.queueOf(ref);
    if (!queueName) return undefined;
    const options = ref.metadata.dlq?.options ?? ref.metadata.resilient?.overrides?.dlq;
    const queue = this.deadLetters.declare(queueName, options, tier, origin);
    const source = { service: base, className: ref.className, method: ref.methodName };
    const logger = this.logger;
    return deadLetterStage({
      queue,
      rethrow: options?.rethrow ?? this.settings.resolve(service, { tier }).dlq.rethrow,
      source,
      clock: lettersClock(this.clock),
      // The active span's trace first (OpenTelemetry), else the request's headers.
      traceId: (context) => this.tracing?.activeTraceId() ?? traceIdOf(context.request),
      // The caller still gets the call's error; the log says the letter is missing.
      onStoreError: (error) =>
        logger.error(
          `could not dead-letter a failed call of ${source.className}.${source.method} to "${queueName}": ${(error as Error).message}`,
        ),
    });
  }
}
