import { Inject, Injectable, Optional } from '@nestjs/common';
import { retryStage } from '../../core/pipeline/retry-stage.js';
import type { Stage } from '../../core/pipeline/stage.js';
import { RetryService } from '../services/retry.service.js';
import { type OtelTracing, RESILIENCE_TRACING } from '../tracing/otel-tracing.js';
import type { StageFactory, StagePlan } from './types.js';

/** The retry policy of @Retry (or of @Resilient's service), one per operation and options. */
@Injectable()
export class RetryStageFactory implements StageFactory {
  readonly kind = 'retry';

  constructor(
    private readonly retries: RetryService,
    @Optional() @Inject(RESILIENCE_TRACING) private readonly tracing?: OtelTracing | null,
  ) {}

  create({ ref, base, suffix, tier }: StagePlan): Stage | undefined {
    const { resilient } = ref.metadata;
    const retry =
      ref.metadata.retry ?? (resilient ? { options: { ...resilient.overrides?.retry, operation: base } } : undefined);
    if (!retry) return undefined;
    const options = typeof retry.options === 'string' ? { preset: retry.options } : (retry.options ?? {});
    const operation = `${options.operation ?? `${ref.className}.${ref.methodName}`}${suffix}`;
    const tracing = this.tracing;
    return retryStage(
      this.retries.policy(operation, { ...options, service: `${options.service ?? base}${suffix}`, tier }),
      // A span per attempt only when asked for: it costs the call path a lookup of the active span.
      tracing?.attemptSpans ? { aroundAttempt: (attempt, run) => tracing.attempt(operation, attempt, run) } : {},
    );
  }
}
