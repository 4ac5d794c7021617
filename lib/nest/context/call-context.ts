import { AsyncLocalStorage } from 'node:async_hooks';
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
}

/** Set by ResilienceInterceptor around every handler, so decorated methods anywhere below can read it. */
export const callContext = new AsyncLocalStorage<CallContextStore>();
