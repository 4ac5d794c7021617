import { Inject, Injectable, Logger } from '@nestjs/common';
import { defer, from, isObservable, lastValueFrom, Observable } from 'rxjs';
import type { RateSettings } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/dead-letter/serialize.js';
import type { AttemptRecord } from '../core/dead-letter/types.js';
import { CircuitOpenError } from '../core/errors.js';
import type { RateLimiter } from '../core/rate-limiter/rate-limiter.js';
import { callContext } from './context/call-context.js';
import { builtInKey, type RateLimitKeyContext } from './context/rate-limit-key.js';
import type { RateLimitOptions } from './decorators/rate-limit.decorator.js';
import type { MethodInvoker, MethodRef } from './decorators/wrap-method.js';
import { ResilienceSettings } from './resilience-settings.js';
import { CircuitBreakerService } from './services/circuit-breaker.service.js';
import { DeadLetterService } from './services/dead-letter.service.js';
import { RateLimiterService } from './services/rate-limiter.service.js';
import { RetryService } from './services/retry.service.js';
import { RESILIENCE_CLOCK } from './timing.js';

type Call = () => unknown;
/** `trail` collects each failed attempt of a call that a dead-letter stage watches. */
type Pipeline = (call: Call, args: unknown[], trail?: AttemptRecord[]) => Promise<unknown>;

/** A method's pipeline, and the same without its dead-letter stage (for replays). */
interface Built {
  pipeline: Pipeline;
  replay: Pipeline;
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

  constructor(
    private readonly circuits: CircuitBreakerService,
    private readonly retries: RetryService,
    private readonly rates: RateLimiterService,
    private readonly deadLetters: DeadLetterService,
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
  ) {}

  /** Builds the method's pipeline now; throws what its options get wrong. */
  prepare(ref: MethodRef, prototype: object): void {
    this.pipelineFor(ref);
    if (Reflect.getMetadata('design:returntype', prototype, ref.methodName) === Observable) {
      this.returnsObservable.add(ref);
    }
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

  invoke(target: object, ref: MethodRef, args: unknown[]): unknown {
    const { pipeline } = this.pipelineFor(ref);
    let sawObservable = false;
    const call = () => {
      const result = ref.original.apply(target, args);
      if (!isObservable(result)) return result;
      sawObservable = true;
      return lastValueFrom(result);
    };
    if (this.returnsObservable.has(ref)) {
      // Lazy, like the Observable it replaces: each subscription runs the pipeline again.
      return defer(() => from(pipeline(call, args)));
    }
    const promise = pipeline(call, args);
    if (!sawObservable) return promise;
    this.returnsObservable.add(ref);
    return from(promise);
  }

  private pipelineFor(ref: MethodRef): Built {
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
    const { resilient } = ref.metadata;
    const service = resilient?.name ?? ref.className;
    const tier = resilient?.tier;
    const overrides = resilient?.overrides ?? {};
    // @Resilient brings every pattern, with the service's settings; explicit decorators refine them.
    const circuit = ref.metadata.circuit ?? (resilient ? { name: service, options: overrides.circuit } : undefined);
    const retry =
      ref.metadata.retry ?? (resilient ? { options: { ...overrides.retry, operation: service } } : undefined);
    const rate = ref.metadata.rate ?? (resilient ? { options: { ...overrides.rate, name: service } } : undefined);
    let pipeline: Pipeline = runCall;
    if (retry) {
      const options = typeof retry.options === 'string' ? { preset: retry.options } : (retry.options ?? {});
      const operation = options.operation ?? `${ref.className}.${ref.methodName}`;
      const policy = this.retries.policy(operation, { service, tier, ...options });
      const inner = pipeline;
      const clock = this.clock;
      pipeline = (call, args, trail) =>
        policy.execute(({ attempt }) => {
          if (!trail) return inner(call, args);
          return inner(call, args).catch((error: unknown) => {
            trail.push({ attempt, at: clock.now(), error: describeError(error) });
            throw error;
          });
        });
    }
    if (circuit) {
      const breaker = this.circuits.get(circuit.name ?? service, circuit.options, tier);
      const inner = pipeline;
      pipeline = (call, args, trail) => breaker.execute(() => inner(call, args, trail));
    }
    const replay = rate ? this.rateStage(pipeline, rate.options ?? {}, service, tier) : pipeline;
    const queue = this.dlqQueueOf(ref);
    if (queue) pipeline = this.deadLetterStage(pipeline, ref, queue, service, tier);
    if (rate) pipeline = this.rateStage(pipeline, rate.options ?? {}, service, tier);
    return { pipeline, replay };
  }

  private deadLetterStage(
    inner: Pipeline,
    ref: MethodRef,
    queueName: string,
    service: string,
    tier?: string,
  ): Pipeline {
    const options = ref.metadata.dlq?.options ?? ref.metadata.resilient?.overrides?.dlq;
    const queue = this.deadLetters.queue(queueName, options, tier);
    const rethrow = options?.rethrow ?? this.settings.resolve(service, { tier }).dlq.rethrow;
    const source = { service, className: ref.className, method: ref.methodName };
    const clock = this.clock;
    const logger = this.logger;
    return (call, args) => {
      const trail: AttemptRecord[] = [];
      return inner(call, args, trail).catch(async (error: unknown) => {
        const rejected = error instanceof CircuitOpenError && trail.length === 0;
        if (!rejected && trail.length === 0) trail.push({ attempt: 1, at: clock.now(), error: describeError(error) });
        try {
          await queue.add({
            args,
            error,
            source,
            attempts: trail.length,
            history: trail,
            reason: rejected ? 'circuit_open' : 'failed',
            traceId: traceIdOf(callContext.getStore()?.request),
          });
        } catch (addError) {
          // Never lose a call silently: the caller gets the failure whatever rethrow says.
          logger.error(
            `could not dead-letter a failed call of ${source.className}.${source.method} to "${queueName}": ${(addError as Error).message}`,
          );
          throw error;
        }
        if (rethrow) throw error;
        return undefined;
      });
    };
  }

  private rateStage(inner: Pipeline, options: RateLimitOptions, service: string, serviceTier?: string): Pipeline {
    const { name = service, tiers, tier, cost, keyFunc, ...settings } = options;
    const limiterFor = this.limiterChooser(name, settings, tiers, tier, serviceTier);
    const keyKind = settings.key ?? this.rates.settingsOf(name, undefined, serviceTier).key;
    const rates = this.rates;
    return (call, args) => {
      const store = callContext.getStore();
      const context: RateLimitKeyContext = { args, request: store?.request, type: store?.type ?? 'none' };
      const limiter = limiterFor.choose(context);
      const key = keyFunc ? (keyFunc(context) ?? 'global') : builtInKey(keyKind, context.request);
      const units = typeof cost === 'function' ? cost(context) : (cost ?? 1);
      return limiter.acquire(key, units).then(
        (verdict) => {
          rates.record(limiter.name, true);
          if (store) {
            if (store.verdicts) store.verdicts.push(verdict);
            else store.verdicts = [verdict];
          }
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
    serviceTier?: string,
  ): { first: string; choose: (context: RateLimitKeyContext) => RateLimiter } {
    if (!tiers || Object.keys(tiers).length === 0) {
      const limiter = this.rates.get(name, settings, serviceTier);
      return { first: name, choose: () => limiter };
    }
    const byTier = new Map<string, RateLimiter>();
    for (const [tierName, tierSettings] of Object.entries(tiers)) {
      const own = typeof tierSettings === 'string' ? { preset: tierSettings } : tierSettings;
      byTier.set(tierName, this.rates.get(`${name}:${tierName}`, { ...settings, ...own }));
    }
    const fallback = byTier.values().next().value as RateLimiter;
    return {
      first: fallback.name,
      choose: (context) => byTier.get(tier?.(context) ?? '') ?? fallback,
    };
  }
}
