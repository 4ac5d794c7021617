import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { defer, from, isObservable, lastValueFrom, Observable } from 'rxjs';
import { ROLLOUT_SUFFIX } from '../config/resolve.js';
import type { DlqSettings, RateSettings } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/dead-letter/serialize.js';
import type { AttemptRecord } from '../core/dead-letter/types.js';
import { CircuitOpenError } from '../core/errors.js';
import { exceeded, type RateLimiter } from '../core/rate-limiter/rate-limiter.js';
import type { RateLimitVerdict } from '../core/rate-limiter/types.js';
import type { RetryExecuteOptions } from '../core/retry/retry-policy.js';
import { CONFIG_SERVICE_TOKEN, type ConfigServiceLike } from './config-service-source.js';
import { callContext, keepVerdict } from './context/call-context.js';
import { callSignalScope } from './context/call-signal.js';
import { builtInKey, type KeyRequest, type RateLimitKeyContext } from './context/rate-limit-key.js';
import type { RateLimitOptions } from './decorators/rate-limit.decorator.js';
import { isNestHandler, refuseSynchronous, warnSynchronous } from './decorators/synchronous-methods.js';
import type { MethodInvoker, MethodRef } from './decorators/wrap-method.js';
import { RESILIENCE_METRICS } from './metrics/metrics-binder.js';
import type { ResilienceMetrics } from './metrics/resilience-metrics.js';
import { ResilienceSettings } from './resilience-settings.js';
import { CircuitBreakerService } from './services/circuit-breaker.service.js';
import { DeadLetterService } from './services/dead-letter.service.js';
import { RateLimiterService } from './services/rate-limiter.service.js';
import { RetryService } from './services/retry.service.js';
import { RESILIENCE_CLOCK } from './timing.js';
import { RESILIENCE_CONFIG_KEY, RESILIENCE_ROLLOUT } from './tokens.js';

type Call = () => unknown;
/** `trail` collects each failed attempt of a call that a dead-letter stage watches. */
type Pipeline = (call: Call, args: unknown[], trail?: AttemptRecord[]) => Promise<unknown>;

/** A method's pipeline, and the same without its dead-letter stage (for replays). */
interface Built {
  pipeline: Pipeline;
  replay: Pipeline;
}

/** Live rollout share of a service (0 to 100), or undefined to use the configuration. */
export type RolloutFlag = (service: string) => number | undefined;

/** FNV-1a: a fast, well-spread 32-bit hash, so a key always falls in the same rollout bucket. */
function stableHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The W3C trace id (traceparent) or the X-Request-Id of the current request, if any. */
function traceIdOf(request: unknown): string | undefined {
  const headers = (request as { headers?: Record<string, unknown> } | undefined)?.headers;
  const traceparent = headers?.traceparent;
  if (typeof traceparent === 'string') return traceparent.split('-')[1];
  const requestId = headers?.['x-request-id'];
  return typeof requestId === 'string' ? requestId : undefined;
}

function runCall(call: Call): Promise<unknown> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
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

  invoke(target: object, ref: MethodRef, args: unknown[]): unknown {
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
    const useRollout = this.rolloutChooser(service, ref);
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

  /**
   * Decides per call whether the rollout arm serves it: sticky per key (the
   * `rolloutKey` of @Resilient, else the service's rate-limit key), so a client stays on
   * one arm while the share holds; a call with no key of its own is decided at random.
   * The share is read per call: the RESILIENCE_ROLLOUT function, else ConfigService's
   * current value, else the configuration at bootstrap; a change takes effect at once.
   */
  private rolloutChooser(service: string, ref: MethodRef): (args: unknown[]) => boolean {
    const keyFunc = ref.metadata.resilient?.rolloutKey;
    const keyShape = this.rates.settingsOf(service);
    const configured = this.settings.config.services?.[service]?.rollout?.percent ?? 0;
    const path = `${this.configKey}.services.${service}.rollout.percent`;
    return (args) => {
      const flagged = this.rolloutFlag?.(service);
      const live = flagged ?? this.configService?.get(path);
      const percent = typeof live === 'number' && live >= 0 && live <= 100 ? live : configured;
      if (percent <= 0) return false;
      if (percent >= 100) return true;
      const store = callContext.getStore();
      const context: RateLimitKeyContext = {
        args,
        request: store?.request as KeyRequest | undefined,
        type: store?.type ?? 'none',
      };
      const key = store?.key ?? (keyFunc ? keyFunc(context) : builtInKey(keyShape.key, context.request, keyShape));
      const bucket = key === undefined || key === 'global' ? Math.random() * 10_000 : stableHash(key) % 10_000;
      return bucket < percent * 100;
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
    const keep = queue && retry && rethrow ? this.letterKeeper(ref, queue, service, tier, dlqOptions) : undefined;
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
    const replay = rateOptions ? this.rateStage(pipeline, rateOptions, service, tier, route, originOf(ref)) : pipeline;
    if (queue && !keep) pipeline = this.deadLetterStage(pipeline, ref, queue, service, tier);
    if (rateOptions) pipeline = this.rateStage(pipeline, rateOptions, service, tier, route, originOf(ref));
    return { pipeline, replay };
  }

  /**
   * Keeps a failed call's letter; resolves once it is stored. If it cannot be stored, it
   * says so in the log and resolves all the same: the caller still gets the call's error.
   */
  private letterKeeper(
    ref: MethodRef,
    queueName: string,
    service: string,
    tier: string | undefined,
    options: DlqSettings | undefined,
  ): (args: unknown[], error: unknown, history: AttemptRecord[], reason: string) => Promise<boolean> {
    const queue = this.deadLetters.declare(queueName, options, tier);
    const source = { service: service.replace(ROLLOUT_SUFFIX, ''), className: ref.className, method: ref.methodName };
    const logger = this.logger;
    return (args, error, history, reason) =>
      queue
        .add({
          args,
          error,
          source,
          attempts: history.length,
          history,
          reason,
          traceId: traceIdOf(callContext.getStore()?.request),
        })
        .then(
          () => true,
          (addError: unknown) => {
            logger.error(
              `could not dead-letter a failed call of ${source.className}.${source.method} to "${queueName}": ${(addError as Error).message}`,
            );
            return false;
          },
        );
  }

  private deadLetterStage(
    inner: Pipeline,
    ref: MethodRef,
    queueName: string,
    service: string,
    tier?: string,
  ): Pipeline {
    const options = ref.metadata.dlq?.options ?? ref.metadata.resilient?.overrides?.dlq;
    const keep = this.letterKeeper(ref, queueName, service, tier, options);
    const rethrow = options?.rethrow ?? this.settings.resolve(service, { tier }).dlq.rethrow;
    const clock = this.clock;
    return (call, args) => {
      const trail: AttemptRecord[] = [];
      return inner(call, args, trail).catch(async (error: unknown) => {
        const rejected = error instanceof CircuitOpenError && trail.length === 0;
        if (!rejected && trail.length === 0) trail.push({ attempt: 1, at: clock.now(), error: describeError(error) });
        const stored = await keep(args, error, trail, rejected ? 'circuit_open' : 'failed');
        // Never lose a call silently: if its letter could not be kept, the caller gets the failure.
        if (rethrow || !stored) throw error;
        return undefined;
      });
    };
  }

  /**
   * `route`: the stage guards a route handler itself. Only such limiters (and those that
   * opt in with `responseHeaders: true`) put their verdict in the response headers.
   */
  private rateStage(
    inner: Pipeline,
    options: RateLimitOptions,
    service: string,
    serviceTier: string | undefined,
    route: boolean,
    origin: string,
  ): Pipeline {
    const { name = service, tiers, tier, cost, keyFunc, responseHeaders, ...settings } = options;
    const inHeaders = responseHeaders ?? route;
    const limiterFor = this.limiterChooser(name, settings, tiers, tier, serviceTier, origin);
    // The key's shape (kind, IPv6 prefix, API-key validator) as this stage's settings refine it.
    const keyShape = this.rates.settingsOf(name, settings, serviceTier);
    // `enabled: false` (here or in the service's settings): no limiter, no headers.
    if (!keyShape.enabled && !tiers) return inner;
    const keyKind = keyShape.key;
    const rates = this.rates;
    const simple = !keyFunc && !tiers && typeof cost !== 'function';
    return (call, args) => {
      const store = callContext.getStore();
      let limiter: RateLimiter;
      let key: string;
      let units: number;
      if (simple) {
        // No function to feed: skip building a context.
        limiter = limiterFor.choose(undefined as never);
        key = store?.key ?? builtInKey(keyKind, store?.request, keyShape);
        units = (cost as number | undefined) ?? 1;
      } else {
        const context: RateLimitKeyContext = {
          args,
          request: store?.request as KeyRequest | undefined,
          type: store?.type ?? 'none',
        };
        limiter = limiterFor.choose(context);
        key = store?.key ?? (keyFunc ? (keyFunc(context) ?? 'global') : builtInKey(keyKind, context.request, keyShape));
        units = typeof cost === 'function' ? cost(context) : (cost ?? 1);
      }
      // A memory limiter decides at once: no promise in the way of the call, and a verdict
      // object only for a denial or for the response headers.
      const decision = limiter.tryDecideSync(key, units);
      if (decision) {
        // Read the shared decision object before any listener runs: a listener that decides
        // again (on any key) reuses it.
        const allowed = decision.allowed;
        const verdict = !allowed || (store && inHeaders) ? limiter.verdictOf(decision) : undefined;
        rates.record(limiter.name, allowed);
        if (!allowed) return Promise.reject(exceeded(verdict as RateLimitVerdict));
        if (store && verdict) keepVerdict(store, verdict);
        return inner(call, args);
      }
      return limiter.acquire(key, units).then(
        (verdict) => {
          rates.record(limiter.name, true);
          if (store && inHeaders) keepVerdict(store, verdict);
          return inner(call, args);
        },
        (error: unknown) => {
          rates.record(limiter.name, false);
          throw error;
        },
      );
    };
  }

  /** One limiter, or one per tier (named `name:tier`) chosen per call. */
  private limiterChooser(
    name: string,
    settings: Omit<RateSettings, 'keyFunc'>,
    tiers: Record<string, RateSettings | string> | undefined,
    tier: ((context: RateLimitKeyContext) => string | undefined) | undefined,
    serviceTier: string | undefined,
    origin: string,
  ): { first: string; choose: (context: RateLimitKeyContext) => RateLimiter } {
    if (!tiers || Object.keys(tiers).length === 0) {
      const limiter = this.rates.get(name, settings, serviceTier, origin);
      return { first: name, choose: () => limiter };
    }
    const byTier = new Map<string, RateLimiter>();
    for (const [tierName, tierSettings] of Object.entries(tiers)) {
      const own = typeof tierSettings === 'string' ? { preset: tierSettings } : tierSettings;
      byTier.set(tierName, this.rates.get(`${name}:${tierName}`, { ...settings, ...own }, undefined, origin));
    }
    const fallback = byTier.values().next().value as RateLimiter;
    return {
      first: fallback.name,
      choose: (context) => byTier.get(tier?.(context) ?? '') ?? fallback,
    };
  }
}

/** Where a pipeline comes from, for errors that name it. */
function originOf(ref: MethodRef): string {
  const own = `${ref.className}.${ref.methodName}`;
  return own === 'ResilienceService.call' ? `ResilienceService.call('${ref.metadata.resilient?.name}')` : own;
}
