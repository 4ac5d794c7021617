import { Inject, Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import type { ResolvedTraceSettings } from '../../config/types.js';
import type { Next } from '../../core/pipeline/stage.js';
import { TraceRecorder } from '../../core/trace/trace-recorder.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_TRACE } from '../tokens.js';
import type { NestCallContext } from './types.js';

export { RESILIENCE_TRACE } from '../tokens.js';

export const traceProvider = {
  provide: RESILIENCE_TRACE,
  inject: [ResilienceSettings],
  useFactory: (settings: ResilienceSettings): TraceRecorder | null => {
    const trace = settings.config.trace;
    if (!trace) return null;
    const logger = new Logger('Resilience');
    return new TraceRecorder({ ...trace, onWarning: (message) => logger.warn(message) });
  },
};

/** Writes the last lines once the app has stopped taking calls. */
@Injectable()
export class TraceLifecycle implements OnApplicationShutdown {
  constructor(@Optional() @Inject(RESILIENCE_TRACE) private readonly trace?: TraceRecorder | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.trace?.close();
  }
}

/** Whether the trace records `service` (every service unless `trace.services` lists some). */
export function tracesService(trace: ResolvedTraceSettings | undefined, service: string): boolean {
  return trace !== undefined && (trace.services === undefined || trace.services.includes(service));
}

/** One arm's pipeline, recording each sampled call: start, latency, outcome, attempts, rejecting stage. */
export function tracedArm(next: Next, recorder: TraceRecorder, service: string, rollout: boolean): Next {
  const settle = (c: NestCallContext, started: number, error: unknown) => {
    const rejectedBy = c.rejectedBy;
    recorder.record(
      service,
      rollout,
      c.key,
      started,
      performance.now(),
      rejectedBy ? 2 : 1,
      rejectedBy ? undefined : error,
      c.tries ?? 0,
      rejectedBy,
    );
  };
  return (context) => {
    if (!recorder.sample()) return next(context);
    const c = context as NestCallContext;
    c.tries = 0;
    const started = performance.now();
    return next(context).then(
      (value) => {
        recorder.record(service, rollout, c.key, started, performance.now(), 0, undefined, c.tries ?? 0, undefined);
        return value;
      },
      (error: unknown) => {
        settle(c, started, error);
        throw error;
      },
    );
  };
}
