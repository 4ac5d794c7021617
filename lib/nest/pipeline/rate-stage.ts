import type { RateSettings } from '../../config/types.js';
import { exceeded, type RateLimiter } from '../../core/rate-limiter/rate-limiter.js';
import type { RateLimitVerdict } from '../../core/rate-limiter/types.js';
import { callContext, keepVerdict } from '../context/call-context.js';
import { builtInKey, type KeyRequest, type RateLimitKeyContext } from '../context/rate-limit-key.js';
import type { RateLimitOptions } from '../decorators/rate-limit.decorator.js';
import type { RateLimiterService } from '../services/rate-limiter.service.js';
import type { Pipeline } from './types.js';

/**
 * `route`: the stage guards a route handler itself. Only such limiters (and those that
 * opt in with `responseHeaders: true`) put their verdict in the response headers.
 */
export function rateStage(
  rates: RateLimiterService,
  inner: Pipeline,
  options: RateLimitOptions,
  service: string,
  serviceTier: string | undefined,
  route: boolean,
  origin: string,
): Pipeline {
  const { name = service, tiers, tier, cost, keyFunc, responseHeaders, ...settings } = options;
  const inHeaders = responseHeaders ?? route;
  const limiterFor = limiterChooser(rates, name, settings, tiers, tier, serviceTier, origin);
  // The key's shape (kind, IPv6 prefix, API-key validator) as this stage's settings refine it.
  const keyShape = rates.settingsOf(name, settings, serviceTier);
  // `enabled: false` (here or in the service's settings): no limiter, no headers.
  if (!keyShape.enabled && !tiers) return inner;
  const keyKind = keyShape.key;
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
function limiterChooser(
  rates: RateLimiterService,
  name: string,
  settings: Omit<RateSettings, 'keyFunc'>,
  tiers: Record<string, RateSettings | string> | undefined,
  tier: ((context: RateLimitKeyContext) => string | undefined) | undefined,
  serviceTier: string | undefined,
  origin: string,
): { first: string; choose: (context: RateLimitKeyContext) => RateLimiter } {
  if (!tiers || Object.keys(tiers).length === 0) {
    const limiter = rates.get(name, settings, serviceTier, origin);
    return { first: name, choose: () => limiter };
  }
  const byTier = new Map<string, RateLimiter>();
  for (const [tierName, tierSettings] of Object.entries(tiers)) {
    const own = typeof tierSettings === 'string' ? { preset: tierSettings } : tierSettings;
    byTier.set(tierName, rates.get(`${name}:${tierName}`, { ...settings, ...own }, undefined, origin));
  }
  const fallback = byTier.values().next().value as RateLimiter;
  return {
    first: fallback.name,
    choose: (context) => byTier.get(tier?.(context) ?? '') ?? fallback,
  };
}
