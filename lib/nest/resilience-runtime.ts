import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { defer, from, isObservable, lastValueFrom, Observable } from 'rxjs';
import { ROLLOUT_SUFFIX } from '../config/resolve.js';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/dead-letter/serialize.js';
import type { AttemptRecord } from '../core/dead-letter/types.js';
import { CircuitOpenError } from '../core/errors.js';
import type { RetryExecuteOptions } from '../core/retry/retry-policy.js';
import { CONFIG_SERVICE_TOKEN, type ConfigServiceLike } from './config-service-source.js';
import { type CallContextStore, callContext } from './context/call-context.js';
import { callSignalScope } from './context/call-signal.js';
import { isNestHandler, refuseSynchronous, warnSynchronous } from './decorators/synchronous-methods.js';
import type { MethodInvoker, MethodRef } from './decorators/wrap-method.js';
import { RouteCall } from './http/route-call.js';
import { RESILIENCE_METRICS } from './metrics/metrics-binder.js';
import type { ResilienceMetrics } from './metrics/resilience-metrics.js';
import { type DeadLetterDeps, deadLetterStage, letterKeeper } from './pipeline/dead-letter-stage.js';
import { rateStage } from './pipeline/rate-stage.js';
import { type RolloutDeps, type RolloutFlag, rolloutChooser } from './pipeline/rollout-chooser.js';
import type { Built, Call, Pipeline } from './pipeline/types.js';
import { ResilienceSettings } from './resilience-settings.js';
import { CircuitBreakerService } from './services/circuit-breaker.service.js';
import { DeadLetterService } from './services/dead-letter.service.js';
import { RateLimiterService } from './services/rate-limiter.service.js';
import { RetryService } from './services/retry.service.js';
import { RESILIENCE_CLOCK } from './timing.js';
import { RESILIENCE_CONFIG_KEY, RESILIENCE_ROLLOUT } from './tokens.js';

function runCall(call: Call): Promise<unknown> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Ends a route call: headers on success, our errors mapped (ResilienceInterceptor). */
interface RouteFinisher {
  finishRoute(result: Promise<unknown>, response: unknown, store: CallContextStore): Promise<unknown>;
}

/**
 * Runs decorated methods of one application: builds each method's pipeline once (at
 * bootstrap, so bad options fail there) and sends every call through it.
 */
@Injectable()
export class ResilienceRuntime implements MethodInvoker {
  private readonly logger = new Logger('Resilience');
  private readonly pipelines = new Map<MethodRef, Built>();
  private readonly returnsObservable = new WeakSet<MethodRef>();
  private readonly routeRefs = new WeakMap<object, MethodRef>();
  private routeFinisher?: RouteFinisher;

  constructor(
    private readonly circuits: CircuitBreakerService,
    private readonly retries: RetryService,
    private readonly rates: RateLimiterService,
    private readonly deadLetters: DeadLetterService,
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Inject(RESILIENCE_CONFIG_KEY) private readonly configKey: string,
    @Optional() @Inject(RESILIENCE_METRICS) private readonly metrics?: ResilienceMetrics | null,
    @Optional() @Inject(RESILIENCE_ROLLOUT) private readonly rolloutFlag?: RolloutFlag | null,
    @Optional() @Inject(CONFIG_SERVICE_TOKEN) private readonly configService?: ConfigServiceLike,
  ) {}

  /** Where the rollout share is read from. */
  private readonly rolloutDeps: RolloutDeps = {
    rates: this.rates,
    configKey: this.configKey,
    configuredPercent: (service) => this.settings.config.services?.[service]?.rollout?.percent ?? 0,
    rolloutFlag: this.rolloutFlag ?? undefined,
    configService: this.configService,
  };

  /** What the dead-letter stage needs of this application (field initializers run after the parameter properties). */
  private readonly letterDeps: DeadLetterDeps = {
    deadLetters: this.deadLetters,
    settings: this.settings,
    clock: this.clock,
    logger: this.logger,
  };

  /** Builds the method's pipeline now; throws what its options get wrong. */
  prepare(ref: MethodRef, prototype: object): void {
    const declared = Reflect.getMetadata('design:returntype', prototype, ref.methodName);
    const method = (prototype as Record<string, unknown>)[ref.methodName];
    refuseSynchronous(ref, declared, method);
    ref.routeHandler = isNestHandler(method);
    this.pipelineFor(ref);
    if (declared === Observable) this.returnsObservable.add(ref);
  }

  /** Lets DeadLetterService replay this method's letters on `instance` (the stages but the dead letter). */
  registerReplay(ref: MethodRef, instance: object): void {
    const queue = this.dlqQueueOf(ref);
    if (!queue) return;
    const { replay } = this.pipelineFor(ref);
    this.deadLetters.registerHandler(queue, `${ref.className}.${ref.methodName}`, (args) =>
      replay(() => {
        const result = ref.original.apply(instance, args);
        return isObservable(result) ? lastValueFrom(result) : result;
      }, args),
    );
  }

  /**
   * Runs an undecorated route handler through a service's stack (from `http.routes`):
   * `call` runs the handler (again, for a retry).
   */
  invokeRoute(
    handler: object,
    className: string,
    service: string,
    call: () => Promise<unknown>,
    args: unknown[],
  ): Promise<unknown> {
    let ref = this.routeRefs.get(handler);
    if (!ref) {
      const methodName = (handler as { name?: string }).name ?? 'handler';
      ref = {
        className,
        methodName,
        original: () => undefined,
        metadata: { resilient: { name: service } },
        routeHandler: true,
      };
      this.routeRefs.set(handler, ref);
    }
    return this.pipelineFor(ref).pipeline(call, args);
  }

  /** Runs `fn` through the pipeline of `ref` (ResilienceService.call). */
  run(ref: MethodRef, fn: () => unknown, args: unknown[]): Promise<unknown> {
    return this.pipelineFor(ref).pipeline(() => {
      const result = fn();
      return isObservable(result) ? lastValueFrom(result) : result;
    }, args);
  }

  /** Set in 'routes' mode: ends decorated routes that run with a RouteCall instead of an interceptor. */
  finishRoutesWith(finisher: RouteFinisher): void {
    this.routeFinisher = finisher;
  }

  invoke(target: object, ref: MethodRef, args: unknown[]): unknown {
    const last = args[args.length - 1];
    if (last instanceof RouteCall) {
      const own = args.slice(0, -1);
      const finisher = this.routeFinisher;
      if (!finisher) return this.invokeMethod(target, ref, own);
      const store: CallContextStore = { type: 'http', request: last.request };
      const result = callContext.run(store, () => {
        const out = this.invokeMethod(target, ref, own);
        return isObservable(out) ? lastValueFrom(out) : (out as Promise<unknown>);
      });
      return finisher.finishRoute(result, last.response, store);
    }
    return this.invokeMethod(target, ref, args);
  }

  private invokeMethod(target: object, ref: MethodRef, args: unknown[]): unknown {
    let cached = ref.cached;
    if (cached?.runtime !== this) {
      cached = { runtime: this, pipeline: this.pipelineFor(ref).pipeline, observable: this.returnsObservable.has(ref) };
      ref.cached = cached;
    }
    const pipeline = cached.pipeline as Pipeline;
    let sawObservable = false;
    const call = () => {
      let result: unknown;
      try {
        result = ref.original.apply(target, args);
      } catch (error) {
        warnSynchronous(ref, 'threw synchronously');
        throw error;
      }
      if (result instanceof Promise) return result;
      if (!isObservable(result)) {
        if (typeof (result as { then?: unknown } | null)?.then !== 'function')
          warnSynchronous(ref, 'returned a plain value');
        return result;
      }
      sawObservable = true;
      return lastValueFrom(result);
    };
    if (cached.observable) {
      // Lazy, like the Observable it replaces: each subscription runs the pipeline again.
      return defer(() => from(pipeline(call, args)));
    }
    const promise = pipeline(call, args);
    if (!sawObservable) return promise;
    this.returnsObservable.add(ref);
    cached.observable = true;
    return from(promise);
  }

  /** The method's pipeline, built on first use (a conflict between named settings throws here). */
  pipelineFor(ref: MethodRef): Built {
    let built = this.pipelines.get(ref);
    if (!built) {
      built = this.build(ref);
      this.pipelines.set(ref, built);
    }
    return built;
  }

  /** The queue a method's failures go to, if it has a dead-letter stage. */
  private dlqQueueOf(ref: MethodRef): string | undefined {
    const { dlq, resilient } = ref.metadata;
    if (dlq) return dlq.queue ?? resilient?.name ?? ref.className;
    if (!resilient) return undefined;
    const resolved = this.settings.resolve(resilient.name, { tier: resilient.tier, dlq: resilient.overrides?.dlq });
    return resolved.dlq.enabled ? resolved.dlq.queue : undefined;
  }

  /**
   * The guide's order, whatever order the decorators were written in: rate limiter,
   * circuit breaker, retry, operation; the dead-letter stage sits outside the breaker and
   * the retries, so a call is dead-lettered once, after its last attempt, and a call the
   * open breaker turned away is kept too (reason 'circuit_open'). Built inside out.
   */
  private build(ref: MethodRef): Built {
    const service = ref.metadata.resilient?.name ?? ref.className;
    const stable = this.buildArm(ref, '');
    if (!this.settings.hasRollout(service)) return stable;
    // Gradual rollout: a second, complete pipeline from services.<name>.rollout.
    const rollout = this.buildArm(ref, ROLLOUT_SUFFIX);
    const useRollout = rolloutChooser(this.rolloutDeps, service, ref);
    const metrics = this.metrics;
    return {
      pipeline: (call, args, trail) => {
        const arm = useRollout(args);
        metrics?.rolloutCalls.inc({ service, arm: arm ? 'rollout' : 'stable' });
        return (arm ? rollout : stable).pipeline(call, args, trail);
      },
      replay: stable.replay,
    };
  }

  private buildArm(ref: MethodRef, suffix: string): Built {
    const { resilient } = ref.metadata;
    const base = resilient?.name ?? ref.className;
    const service = `${base}${suffix}`;
    const tier = resilient?.tier;
    const overrides = resilient?.overrides ?? {};
    // @Resilient brings every pattern, with the service's settings; explicit decorators refine them.
    const circuit = ref.metadata.circuit ?? (resilient ? { name: base, options: overrides.circuit } : undefined);
    const retry = ref.metadata.retry ?? (resilient ? { options: { ...overrides.retry, operation: base } } : undefined);
    const rate = ref.metadata.rate ?? (resilient ? { options: { ...overrides.rate, name: base } } : undefined);
    let pipeline: Pipeline = runCall;
    const queue = this.dlqQueueOf(ref);
    const dlqOptions = ref.metadata.dlq?.options ?? resilient?.overrides?.dlq;
    const rethrow = queue ? (dlqOptions?.rethrow ?? this.settings.resolve(service, { tier }).dlq.rethrow) : true;
    // Fused: with retries and rethrown errors, a letter is kept in the retry's give-up path
    // and in the breaker's reject path (each awaited before the error goes on), so a call
    // pays no extra stage on its way out. Otherwise a stage of its own catches the failure.
    const keep =
      queue && retry && rethrow ? letterKeeper(this.letterDeps, ref, queue, service, tier, dlqOptions) : undefined;
    if (retry) {
      const options = typeof retry.options === 'string' ? { preset: retry.options } : (retry.options ?? {});
      const operation = `${options.operation ?? `${ref.className}.${ref.methodName}`}${suffix}`;
      const policy = this.retries.policy(operation, {
        ...options,
        service: `${options.service ?? base}${suffix}`,
        tier,
      });
      const inner = pipeline;
      const clock = this.clock;
      // Functions shared by every call: the call's own data ride in its options object.
      const onFailure = (o: RetryExecuteOptions, attempt: number, error: unknown) => {
        if (!o.failures) o.failures = [];
        o.failures.push({ attempt, at: clock.now(), error: describeError(error) });
      };
      const onGiveUp = keep
        ? (error: unknown, _attempts: number, o: RetryExecuteOptions) =>
            keep(o.args ?? [], error, (o.failures ?? []) as AttemptRecord[], 'failed')
        : undefined;
      pipeline = keep
        ? (call, args) => policy.execute(() => inner(call, args), { onFailure, onGiveUp, args })
        : (call, args, trail) =>
            policy.execute(() => inner(call, args), trail ? { onFailure, failures: trail } : undefined);
    }
    if (circuit) {
      const breaker = this.circuits.get(`${circuit.name ?? base}${suffix}`, circuit.options, tier, originOf(ref));
      const inner = pipeline;
      if (keep) {
        const onRejected = (error: CircuitOpenError, args: unknown) =>
          keep(args as unknown[], error, [], 'circuit_open').then(() => Promise.reject(error));
        pipeline = breaker.hasCallTimeout
          ? (call, args) =>
              breaker.execute((context) => callSignalScope.run(context, () => inner(call, args)), onRejected, args)
          : (call, args) => breaker.execute(() => inner(call, args), onRejected, args);
      } else if (breaker.hasCallTimeout) {
        // The call's signal reaches the method through currentCallSignal().
        pipeline = (call, args, trail) =>
          breaker.execute((context) => callSignalScope.run(context, () => inner(call, args, trail)));
      } else {
        pipeline = (call, args, trail) => breaker.execute(() => inner(call, args, trail));
      }
    }
    const rateOptions = rate ? { ...rate.options, name: `${rate.options?.name ?? base}${suffix}` } : undefined;
    const route = ref.routeHandler === true;
    const replay = rateOptions
      ? rateStage(this.rates, pipeline, rateOptions, service, tier, route, originOf(ref))
      : pipeline;
    if (queue && !keep) pipeline = deadLetterStage(this.letterDeps, pipeline, ref, queue, service, tier);
    if (rateOptions) pipeline = rateStage(this.rates, pipeline, rateOptions, service, tier, route, originOf(ref));
    return { pipeline, replay };
  }
}

/** Where a pipeline comes from, for errors that name it. */
function originOf(ref: MethodRef): string {
  const own = `${ref.className}.${ref.methodName}`;
  return own === 'ResilienceService.call' ? `ResilienceService.call('${ref.metadata.resilient?.name}')` : own;
}
