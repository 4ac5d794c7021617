import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { errorCodeOf } from '../../core/error-matchers.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { loadOtelApi, type OtelApi } from '../metrics/otel-backend.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_TRACING } from '../tokens.js';

export { RESILIENCE_TRACING } from '../tokens.js';

/** OpenTelemetry's `error.type`: the code of the error or of its cause (ECONNREFUSED under fetch's TypeError), else its class. */
export function errorType(error: unknown): string {
  return errorCodeOf(error) ?? (error instanceof Error ? error.constructor.name : typeof error);
}

/**
 * The call's resilience story on its OpenTelemetry trace: events on the active span (none
 * when no span is active, as when no tracer provider is registered), the active trace id for
 * dead letters, and optionally a child span per attempt of a retried operation.
 */
export class OtelTracing {
  private readonly tracer: Tracer;

  constructor(
    private readonly api: OtelApi,
    readonly attemptSpans: boolean,
  ) {
    this.tracer = api.trace.getTracer('nest-resilience');
  }

  /** Adds an event to the active span, if there is one that records. */
  event(name: string, attributes: Attributes): void {
    const span = this.api.trace.getActiveSpan();
    if (span?.isRecording()) span.addEvent(name, attributes);
  }

  /** The active span's trace id, if its context is valid. */
  activeTraceId(): string | undefined {
    const context = this.api.trace.getActiveSpan()?.spanContext();
    return context && this.api.isSpanContextValid(context) ? context.traceId : undefined;
  }

  /**
   * Runs one attempt in a child span `resilience.attempt` of the active span. Only under a span
   * that records: with no tracer provider, or a sampler that drops the call, nothing is made.
   */
  attempt(operation: string, attempt: number, run: () => Promise<unknown>): Promise<unknown> {
    const parent = this.api.trace.getActiveSpan();
    if (!parent?.isRecording()) return run();
    const attributes = { 'resilience.operation': operation, 'resilience.retry.attempt': attempt };
    return this.tracer.startActiveSpan('resilience.attempt', { attributes }, (span: Span) =>
      run().then(
        (result) => {
          span.end();
          return result;
        },
        (error: unknown) => {
          span.setAttribute('error.type', errorType(error));
          span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: (error as Error)?.message });
          span.end();
          throw error;
        },
      ),
    );
  }
}

/** `tracing`: on by default when @opentelemetry/api is installed; `enabled: true` requires it. */
export const tracingProvider = {
  provide: RESILIENCE_TRACING,
  inject: [ResilienceSettings],
  useFactory: (settings: ResilienceSettings): OtelTracing | null => {
    const { enabled, attemptSpans = false } = settings.config.tracing ?? {};
    if (enabled === false) {
      if (attemptSpans) {
        throw new ResilienceConfigError([
          { path: 'tracing.attemptSpans', message: 'is true but tracing.enabled is false: remove one of them' },
        ]);
      }
      return null;
    }
    const api = loadOtelApi();
    if (!api) {
      if (enabled || attemptSpans) {
        throw new ResilienceConfigError([
          {
            path: enabled ? 'tracing.enabled' : 'tracing.attemptSpans',
            message: 'is true but the optional peer "@opentelemetry/api" is not installed (npm i @opentelemetry/api)',
          },
        ]);
      }
      return null;
    }
    return new OtelTracing(api, attemptSpans);
  },
};
