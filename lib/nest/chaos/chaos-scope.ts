import type { ResilienceContext } from '../../core/pipeline/context.js';
import type { RateLimitKeyContext } from '../context/rate-limit-key.js';
import { RouteServices } from '../http/route-services.js';
import { keyContextOf, type NestCallContext } from '../pipeline/types.js';

/** Which calls of its service an experiment hits, beyond the service and arm. */
export interface ChaosScope {
  /** 'VERB /path', '/path' or '/prefix/*' (the `http.routes` syntax), matched against the request's route. */
  route?: string;
  /** The call's key: the rate limiter's (an IP, a user id, as the limiter computed it) or ResilienceService.call's. */
  key?: string;
  /** A predicate over what a rate-limit key function gets (code only: it cannot travel to other replicas). */
  when?: (call: RateLimitKeyContext) => boolean;
}

type AnyRecord = Record<string, unknown>;
const record = (value: unknown): AnyRecord | undefined =>
  typeof value === 'object' && value !== null ? (value as AnyRecord) : undefined;

/**
 * The route an HTTP request was matched to, as its framework routed it (global prefix
 * included): Express's `req.route.path`, Fastify's `routeOptions.url`; else its URL's path.
 */
export function requestRoute(request: unknown): { verb: string; path: string } | undefined {
  const r = record(request);
  if (!r || typeof r.method !== 'string') return undefined;
  const template = record(r.route)?.path ?? record(r.routeOptions)?.url ?? r.routerPath;
  const url = typeof r.originalUrl === 'string' ? r.originalUrl : typeof r.url === 'string' ? r.url : undefined;
  const path = typeof template === 'string' ? template : url?.split('?')[0];
  if (path === undefined) return undefined;
  const normal = `/${path}`.replace(/\/+/g, '/');
  return { verb: r.method.toUpperCase(), path: normal.length > 1 ? normal.replace(/\/$/, '') : normal };
}

/** The test an experiment's scope makes of each call; undefined when it hits every call. */
export function scopeMatcher(scope: ChaosScope): ((context: ResilienceContext) => boolean) | undefined {
  const tests: ((context: NestCallContext) => boolean)[] = [];
  if (scope.route !== undefined) {
    const routes = new RouteServices({ [scope.route]: 'hit' });
    tests.push((context) => {
      const route = requestRoute(context.store?.request);
      return route !== undefined && routes.serviceOf(route.verb, route.path) !== undefined;
    });
  }
  if (scope.key !== undefined) {
    const key = scope.key;
    tests.push((context) => context.key === key);
  }
  if (scope.when) {
    const when = scope.when;
    // A predicate that throws hits nothing: chaos never fails a call by its own mistake.
    tests.push((context) => {
      try {
        return when(keyContextOf(context)) === true;
      } catch {
        return false;
      }
    });
  }
  if (tests.length === 0) return undefined;
  return (context) => tests.every((test) => test(context as NestCallContext));
}
