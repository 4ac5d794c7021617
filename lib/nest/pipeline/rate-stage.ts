import { Inject, Injectable, Optional } from '@nestjs/common';
import type { RateSettings } from '../../config/types.js';
import type { RateLimitExceededError } from '../../core/errors.js';
import type { ResilienceContext } from '../../core/pipeline/context.js';
import { rateLimitStage } from '../../core/pipeline/rate-limit-stage.js';
import type { Stage } from '../../core/pipeline/stage.js';
import type { RateLimiter } from '../../core/rate-limiter/rate-limiter.js';
import { keepVerdict } from '../context/call-context.js';
import { builtInKey, type RateLimitKeyContext } from '../context/rate-limit-key.js';
import type { RateLimitOptions } from '../decorators/rate-limit.decorator.js';
import { RateLimiterService } from '../services/rate-limiter.service.js';
import { type OtelTracing, RESILIENCE_TRACING } from '../tracing/otel-tracing.js';
import { keyContextOf, type NestCallContext, type StageFactory, type StagePlan } from './types.js';

/** The limiter of @RateLimit (or of @Resilient's service): its key, cost and tiers, its headers. */
@Injectable()
export class RateStageFactory implements StageFactory {
  readonly kind = 'rate_limit';

  constructor(
    private readonly rates: RateLimiterService,
    @Optional() @Inject(RESILIENCE_TRACING) private readonly tracing?: OtelTracing | null,
  ) {}

  create(plan: StagePlan): Stage | undefined {
    const { ref, base, suffix, service, tier: serviceTier, origin } = plan;
    const { resilient } = ref.metadata;
    const declared =
      ref.metadata.rate ?? (resilient ? { options: { ...resilient.overrides?.rate, name: base } } : undefined);
    if (!declared) return undefined;
    const options: RateLimitOptions = { ...declared.options, name: `${declared.options?.name ?? base}${suffix}` };
    const { name = service, tiers, tier, cost, keyFunc: ownKeyFunc, responseHeaders, ...settings } = options;
    const rates = this.rates;
    // The key's shape (kind, IPv6 prefix, API-key validator) as this stage's settings refine it.
    const keyShape = rates.settingsOf(name, settings, serviceTier);
    // `enabled: false` (here or in the service's settings): no limiter, no headers.
    if (!keyShape.enabled && !tiers) return undefined;
    const limiter = limiterChooser(rates, name, settings, tiers, tier, serviceTier, origin);
    const keyKind = keyShape.key;
    // The decorator's key function, else the configuration's (`services.<s>.rate.keyFunc`).
    const keyFunc = ownKeyFunc ?? (keyShape.keyFunc as typeof ownKeyFunc);
    // Only limiters that guard a route handler itself (or opt in) put their verdict in the headers.
    const inHeaders = responseHeaders ?? ref.routeHandler === true;
    const key = keyFunc
      ? (context: ResilienceContext) => context.key ?? keyFunc(keyContextOf(context as NestCallContext)) ?? 'global'
      : (context: ResilienceContext) =>
          context.key ?? builtInKey(keyKind, (context as NestCallContext).request as never, keyShape);
    return rateLimitStage({
      limiter,
      key,
      cost: typeof cost === 'function' ? (context) => cost(keyContextOf(context as NestCallContext)) : (cost ?? 1),
      onAdmitted: inHeaders
        ? (verdict, context) => keepVerdict((context as NestCallContext).store as never, verdict)
        : undefined,
      wantsVerdict: (context) => (context as NestCallContext).store !== undefined,
      onRejected: refusalReport(rates, this.tracing),
    });
  }
}

/** The limiter's refusal, counted by the call's class and marked on the call's span. */
function refusalReport(rates: RateLimiterService, tracing: OtelTracing | null | undefined) {
  return (error: RateLimitExceededError, context: ResilienceContext) => {
    rates.refused(error.limiter ?? 'unknown', context.criticality);
    tracing?.event('resilience.rate_limit.denied', {
      'resilience.rate_limit.policy': error.limiter ?? 'unknown',
      'resilience.rate_limit.retry_after': error.retryAfter,
      ...(error.limit === undefined ? {} : { 'resilience.rate_limit.limit': error.limit }),
    });
  };
}

/** One limiter, or one per tier (named `name:tier`) chosen per call. */
function limiterChooser(
  rates: RateLimiterService,
  name: string,
  settings: Omit<RateSettings, 'keyFunc'>,
  tiers: Record<string, RateSettings | string> | undefined,
  tier: ((context: RateLimitKeyContext) => string | undefined) | undefined,
  serviceTier: string | undefined,
  origin: string,
): RateLimiter | ((context: ResilienceContext) => RateLimiter) {
  if (!tiers || Object.keys(tiers).length === 0) return rates.get(name, settings, serviceTier, origin);
  const byTier = new Map<string, RateLimiter>();
  for (const [tierName, tierSettings] of Object.entries(tiers)) {
    const own = typeof tierSettings === 'string' ? { preset: tierSettings } : tierSettings;
    byTier.set(tierName, rates.get(`${name}:${tierName}`, { ...settings, ...own }, undefined, origin));
  }
  const fallback = byTier.values().next().value as RateLimiter;
  return (context) => byTier.get(tier?.(keyContextOf(context as NestCallContext)) ?? '') ?? fallback;
}
