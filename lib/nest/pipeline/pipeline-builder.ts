import { Inject, Injectable, Optional } from '@nestjs/common';
import { ROLLOUT_SUFFIX } from '../../config/resolve.js';
import type { Clock } from '../../core/clock.js';
import { compose } from '../../core/pipeline/compose.js';
import type { Next, Stage } from '../../core/pipeline/stage.js';
import { rejectionOf } from '../../core/rejections.js';
import type { TraceRecorder } from '../../core/trace/trace-recorder.js';
import { callContext } from '../context/call-context.js';
import { callSignalScope } from '../context/call-signal.js';
import type { MethodRef } from '../decorators/wrap-method.js';
import { DescriptorStages } from '../descriptors/descriptor-stages.js';
import { RESILIENCE_METRICS } from '../metrics/metrics-binder.js';
import type { ResilienceMetrics } from '../metrics/resilience-metrics.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RateLimiterService } from '../services/rate-limiter.service.js';
import { RESILIENCE_CLOCK, RESILIENCE_STAGE_FACTORIES } from '../tokens.js';
import { rolloutChooser } from './rollout-chooser.js';
import { RolloutProgress } from './rollout-progress.js';
import { RolloutShares } from './rollout-shares.js';
import { RESILIENCE_TRACE, tracedArm, tracesService } from './trace.js';
import type { Built, Call, NestCallContext, Pipeline, StageFactory, StagePlan } from './types.js';

/** The innermost step of every Nest pipeline: the method, under the call's signal, deadline and criticality when it has them. */
function runMethod(context: NestCallContext): unknown {
  if (context.tries !== undefined) context.tries++;
  const { signal, deadline, criticality } = context;
  return signal || deadline !== undefined || criticality
    ? callSignalScope.run({ signal, deadline, criticality }, context.call)
    : context.call();
}

/** A pipeline's entry: one context per call, with the current request's store. */
function entry(next: Next): Pipeline {
  return (call: Call, args: unknown[]) => {
    const store = callContext.getStore();
    const context: NestCallContext = {
      args,
      operation: runMethod as never,
      call,
      store,
      key: store?.key,
      request: store?.request,
      // Declared up front: one hidden class for every context (see core retry-stage.ts).
      signal: undefined,
      deadline: undefined,
      criticality: undefined,
      attempts: undefined,
      rejectedBy: undefined,
      keyContext: undefined,
      tries: undefined,
    };
    return next(context);
  };
}

/**
 * Builds a method's pipeline: its metadata and the service's settings go to each stage
 * factory, the stages they return are composed in the guide's order (lib/core/pipeline),
 * and a service with a rollout gets a second, complete arm and a router between them.
 */
@Injectable()
export class PipelineBuilder {
  constructor(
    @Inject(RESILIENCE_STAGE_FACTORIES) private readonly factories: StageFactory[],
    private readonly defined: DescriptorStages,
    private readonly settings: ResilienceSettings,
    private readonly rates: RateLimiterService,
    private readonly shares: RolloutShares,
    private readonly progress: RolloutProgress,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Optional() @Inject(RESILIENCE_METRICS) private readonly metrics?: ResilienceMetrics | null,
    @Optional() @Inject(RESILIENCE_TRACE) private readonly trace?: TraceRecorder | null,
  ) {}

  /** Builds now; throws what the method's options get wrong (a conflict between named settings, too). */
  build(ref: MethodRef): Built {
    const service = ref.metadata.resilient?.name ?? ref.className;
    const stable = this.arm(ref, '');
    const traced = this.trace && tracesService(this.settings.config.trace, service) ? this.trace : undefined;
    if (traced) stable.pipeline = tracedArm(stable.pipeline, traced, service, false);
    if (!this.settings.hasRollout(service)) return { pipeline: entry(stable.pipeline), replay: entry(stable.replay) };
    const rollout = this.arm(ref, ROLLOUT_SUFFIX);
    if (traced) rollout.pipeline = tracedArm(rollout.pipeline, traced, service, true);
    const useRollout = rolloutChooser({ rates: this.rates, percent: this.shares.reader(service) }, service, ref);
    const metrics = this.metrics;
    const progressive = this.progress.of(service);
    const clock = this.clock;
    const routed: Next = (context) => {
      const arm = useRollout(context as NestCallContext);
      metrics?.rolloutCalls.inc({ service, arm: arm ? 'rollout' : 'stable' });
      const promise = (arm ? rollout : stable).pipeline(context);
      if (!progressive) return promise;
      // A progressive rollout compares the arms: each call's outcome and time go to its arm.
      const name = arm ? 'rollout' : 'stable';
      const started = clock.now();
      promise.then(
        () => progressive.record(name, 'success', clock.now() - started),
        (error: unknown) =>
          progressive.record(name, rejectionOf(error) ? 'rejected' : 'failure', clock.now() - started),
      );
      return promise;
    };
    return { pipeline: entry(routed), replay: entry(stable.replay) };
  }

  /** One arm: every factory's stage for this method, composed; and the same without its dead letter. */
  private arm(ref: MethodRef, suffix: string): { pipeline: Next; replay: Next } {
    const { resilient } = ref.metadata;
    const base = resilient?.name ?? ref.className;
    const plan: StagePlan = {
      ref,
      base,
      suffix,
      service: `${base}${suffix}`,
      tier: resilient?.tier,
      origin: originOf(ref),
    };
    const stages: Stage[] = [];
    for (const factory of this.factories) {
      const stage = factory.create(plan);
      if (stage) stages.push(stage);
    }
    stages.push(...this.defined.create(plan));
    const order = this.defined.order;
    return {
      pipeline: compose(stages, order),
      replay: compose(
        stages.filter((stage) => stage.kind !== 'dead_letter'),
        order,
      ),
    };
  }
}

/** Where a pipeline comes from, for errors that name it. */
export function originOf(ref: MethodRef): string {
  const own = `${ref.className}.${ref.methodName}`;
  return own === 'ResilienceService.call' ? `ResilienceService.call('${ref.metadata.resilient?.name}')` : own;
}
