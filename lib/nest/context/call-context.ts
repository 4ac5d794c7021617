import { AsyncLocalStorage } from 'node:async_hooks';
import type { Criticality } from '../../core/criticality.js';
import type { RateLimitVerdict } from '../../core/rate-limiter/types.js';

/** What the current request (or RPC / WebSocket / GraphQL call) is, for keys and response headers. */
export interface CallContextStore {
  type: string;
  /** The HTTP request (Express or Fastify), or GraphQL's context request. */
  request?: unknown;
  /** A key given by the caller (ResilienceService.call's `key`): wins over keys from the request. */
  key?: string;
  /** Verdicts of the limiters that admitted this call, for the RateLimit headers. */
  verdicts?: RateLimitVerdict[];
  /** The caller's deadline from the request's headers, monotonic ms; null: none (read once per request). */
  deadline?: number | null;
  /** The caller's criticality from the request's headers; null: none (read once per request). */
  criticality?: Criticality | null;
}

/**
 * Keeps a verdict for the response headers: one per limiter name, the most restrictive
 * (fewest remaining, then the longest until reset), so a handler that calls a limited
 * method 600 times still sends one item for it.
 */
export function keepVerdict(store: CallContextStore, verdict: RateLimitVerdict): void {
  const verdicts = store.verdicts;
  if (!verdicts) {
    store.verdicts = [verdict];
    return;
  }
  const index = verdicts.findIndex((v) => v.limiter === verdict.limiter);
  if (index === -1) {
    verdicts.push(verdict);
    return;
  }
  const kept = verdicts[index] as RateLimitVerdict;
  if (
    verdict.remaining < kept.remaining ||
    (verdict.remaining === kept.remaining && verdict.resetAfter > kept.resetAfter)
  ) {
    verdicts[index] = verdict;
  }
}

/** Set by ResilienceInterceptor around every handler, so decorated methods anywhere below can read it. */
export const callContext = new AsyncLocalStorage<CallContextStore>();
