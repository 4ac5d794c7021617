import { builtInKey } from '../context/rate-limit-key.js';
import type { MethodRef } from '../decorators/wrap-method.js';
import type { RateLimiterService } from '../services/rate-limiter.service.js';
import { keyContextOf, type NestCallContext } from './types.js';

/** Live rollout share of a service (0 to 100), or undefined to use the configuration. */
export type RolloutFlag = (service: string) => number | undefined;

type RolloutKey = (context: ReturnType<typeof keyContextOf>) => string | undefined;

export interface RolloutDeps {
  rates: RateLimiterService;
  /** The service's share in force, read per call (RolloutShares.reader). */
  percent: () => number;
}

/** FNV-1a: a fast, well-spread 32-bit hash, so a key always falls in the same rollout bucket. */
function stableHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Decides per call whether the rollout arm serves it: sticky per key (the
 * `rolloutKey` of @Resilient, else the service's rate-limit key), so a client stays on
 * one arm while the share holds; a call with no key of its own is decided at random.
 * The share is read per call (see RolloutShares): a change takes effect at once.
 */
export function rolloutChooser(
  deps: RolloutDeps,
  service: string,
  ref: MethodRef,
): (context: NestCallContext) => boolean {
  const keyShape = deps.rates.settingsOf(service);
  const keyFunc = ref.metadata.resilient?.rolloutKey ?? (keyShape.keyFunc as RolloutKey | undefined);
  return (call) => {
    const percent = deps.percent();
    if (percent <= 0) return false;
    if (percent >= 100) return true;
    // The same key context the rate stage reads (built once per call).
    const context = keyContextOf(call);
    const key = call.key ?? (keyFunc ? keyFunc(context) : builtInKey(keyShape.key, context.request, keyShape));
    const bucket = key === undefined || key === 'global' ? Math.random() * 10_000 : stableHash(key) % 10_000;
    return bucket < percent * 100;
  };
}
