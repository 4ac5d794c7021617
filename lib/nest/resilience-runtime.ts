import { Injectable } from '@nestjs/common';
import { defer, from, isObservable, lastValueFrom, Observable } from 'rxjs';
import type { RateSettings } from '../config/types.js';
import type { RateLimiter } from '../core/rate-limiter/rate-limiter.js';
import { callContext } from './context/call-context.js';
import { builtInKey, type RateLimitKeyContext } from './context/rate-limit-key.js';
import type { RateLimitOptions } from './decorators/rate-limit.decorator.js';
import type { MethodInvoker, MethodRef } from './decorators/wrap-method.js';
import { CircuitBreakerService } from './services/circuit-breaker.service.js';
import { RateLimiterService } from './services/rate-limiter.service.js';
import { RetryService } from './services/retry.service.js';

type Call = () => unknown;
type Pipeline = (call: Call, args: unknown[]) => Promise<unknown>;

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
  private readonly pipelines = new Map<MethodRef, Pipeline>();
  private readonly returnsObservable = new WeakSet<MethodRef>();

  constructor(
    private readonly circuits: CircuitBreakerService,
    private readonly retries: RetryService,
    private readonly rates: RateLimiterService,
  ) {}

  /** Builds the method's pipeline now; throws what its options get wrong. */
  prepare(ref: MethodRef, prototype: object): void {
    this.pipelineFor(ref);
    if (Reflect.getMetadata('design:returntype', prototype, ref.methodName) === Observable) {
      this.returnsObservable.add(ref);
    }
  }

  invoke(target: object, ref: MethodRef, args: unknown[]): unknown {
    const pipeline = this.pipelineFor(ref);
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

  private pipelineFor(ref: MethodRef): Pipeline {
    let pipeline = this.pipelines.get(ref);
    if (!pipeline) {
      pipeline = this.build(ref);
      this.pipelines.set(ref, pipeline);
    }
    return pipeline;
  }

  /**
   * The guide's order, whatever order the decorators were written in: rate limiter,
   * circuit breaker, retry, operation. Built from the inside out.
   */
  private build(ref: MethodRef): Pipeline {
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
      pipeline = (call, args) => policy.execute(() => inner(call, args));
    }
    if (circuit) {
      const breaker = this.circuits.get(circuit.name ?? service, circuit.options, tier);
      const inner = pipeline;
      pipeline = (call, args) => breaker.execute(() => inner(call, args));
    }
    if (rate) pipeline = this.rateStage(pipeline, rate.options ?? {}, service, tier);
    return pipeline;
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
