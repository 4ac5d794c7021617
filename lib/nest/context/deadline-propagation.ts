import { monotonicNow } from '../../core/clock.js';
import type { Criticality } from '../../core/criticality.js';
import { DEFAULT_DEADLINE_HEADERS } from '../../core/deadline/inbound-deadline.js';
import { callContext } from './call-context.js';
import { callSignalScope } from './call-signal.js';
import { CRITICALITY_HEADER } from './inbound-deadlines.js';

/**
 * Milliseconds left before the current call's deadline (its caller's, from request headers, or
 * @Deadline's), or undefined when it has none. Negative: it has passed. Read it anywhere in the
 * call (AsyncLocalStorage). Measured on the process's monotonic clock.
 */
export function currentDeadline(): number | undefined {
  const deadline = callSignalScope.getStore()?.deadline ?? callContext.getStore()?.deadline ?? undefined;
  return deadline === undefined ? undefined : deadline - monotonicNow();
}

/**
 * The headers that pass the current call's deadline and criticality to the next service: what
 * is left of the deadline, relative (`x-request-timeout-ms`, immune to clock skew) and absolute
 * (`x-request-deadline`, epoch ms), and `x-request-criticality`. Empty outside such a call.
 */
export function deadlineHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const criticality = currentCriticality();
  if (criticality) headers[CRITICALITY_HEADER] = criticality;
  const left = currentDeadline();
  if (left === undefined) return headers;
  const ms = Math.max(1, Math.floor(left));
  headers[DEFAULT_DEADLINE_HEADERS.relative] = String(ms);
  headers[DEFAULT_DEADLINE_HEADERS.absolute] = String(Date.now() + ms);
  return headers;
}

/** The current call's criticality (its method's @Criticality, else its caller's header), if it has one. */
export function currentCriticality(): Criticality | undefined {
  return callSignalScope.getStore()?.criticality ?? callContext.getStore()?.criticality ?? undefined;
}

/** The call's signal joined with one the caller gives. */
function joined(own: AbortSignal | null | undefined): AbortSignal | undefined {
  const call = callSignalScope.getStore()?.signal;
  if (!own) return call;
  return call ? AbortSignal.any([own, call]) : own;
}

/**
 * `fetch` for calls to other services from inside a resilient call: the call's signal (a
 * timeout, a deadline, a hedge that lost, a breaker's callTimeout end the request on the wire)
 * and its deadline's headers. Headers the caller sets win.
 */
export function resilientFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(deadlineHeaders())) if (!headers.has(name)) headers.set(name, value);
  return fetch(input, { ...init, headers, signal: joined(init.signal) });
}

/** What the axios interceptor reads and writes of a request config (axios's own type, structurally). */
export interface AxiosRequestLike {
  headers?: unknown;
  signal?: unknown;
}

/**
 * An axios (and `@nestjs/axios`) request interceptor doing what `resilientFetch` does:
 * `axios.interceptors.request.use(deadlineAxiosInterceptor)`, or
 * `httpService.axiosRef.interceptors.request.use(deadlineAxiosInterceptor)`.
 */
export function deadlineAxiosInterceptor<C extends AxiosRequestLike>(config: C): C {
  const extra = deadlineHeaders();
  const headers = config.headers as
    | { set?(name: string, value: string): void; has?(name: string): boolean }
    | undefined;
  for (const [name, value] of Object.entries(extra)) {
    if (headers?.set && headers.has) {
      if (!headers.has(name)) headers.set(name, value);
    } else {
      const plain = (config.headers ?? {}) as Record<string, string>;
      plain[name] ??= value;
      config.headers = plain;
    }
  }
  const signal = joined(config.signal as AbortSignal | undefined);
  if (signal) config.signal = signal;
  return config;
}
