import type { InjectionToken } from '@nestjs/common';
import type { ResolvedDlqSettings } from '../config/resolved-types.js';
import type { RedisClientLike } from '../config/schema.js';
import type { DeadLetterBackend } from '../core/dead-letter/types.js';
import type { RateLimitStore } from '../core/rate-limiter/types.js';
import type { ResilienceAdminOptions } from './admin/admin-options.js';

// The options of ResilienceModule.forRoot beside the configuration, and their checks: apart
// from the module definition, so the providers that read them need not import the module.

/** Where ResilienceInterceptor runs (see ResilienceModuleExtras.interceptor). */
export type InterceptorMode = 'routes' | 'global' | 'none';

/** A dead-letter backend of your own for `queue`, or undefined for the built-in one its settings name. */
export type DeadLetterBackendFactory = (queue: string, settings: ResolvedDlqSettings) => DeadLetterBackend | undefined;

export interface ResilienceModuleExtras {
  /** Register the module globally. */
  isGlobal?: boolean;
  /** ConfigService key read when no configuration is given (default 'resilience'). */
  configKey?: string;
  /** Live share (0-100) of a service's rollout, e.g. from a feature-flag client; undefined falls back to the configuration. */
  rolloutFlag?: (service: string) => number | undefined;
  /**
   * Where ResilienceInterceptor (429/503 mapping, RateLimit headers, the request for keys)
   * runs. 'routes' (default): only on handlers that need it: decorated ones, `http.routes`
   * entries, and those of classes that inject (directly or through other providers)
   * something with our decorators or one of our services. Any interceptor costs a route
   * its RxJS chain, so the others pay nothing. 'global': on every handler (a handler that
   * reaches resilience some other way, e.g. through ModuleRef.get at run time). 'none':
   * only where you put @UseInterceptors(ResilienceInterceptor).
   */
  interceptor?: InterceptorMode;
  /**
   * The store every rate limiter of the app counts in, instead of memory or the configured
   * Redis: any RateLimitStore (one atomic decision over a key's rules; see lib/core/rate-limiter/types.ts).
   */
  rateLimitStore?: RateLimitStore;
  /**
   * Called for every dead-letter queue before the built-in backends: return a backend of your
   * own (a database table, a message broker), or undefined for the one its settings name.
   */
  deadLetterBackend?: DeadLetterBackendFactory;
  /** @deprecated since 0.2: `interceptor: 'global'` (true) or `'none'` (false). */
  globalInterceptor?: boolean;
  /**
   * The application's own ioredis `Redis` or `Cluster` for every Redis store of the module, or
   * the injection token of the provider that has it. Used as it is, never closed by the module.
   */
  redisClient?: RedisClientLike | InjectionToken;
  /**
   * The operator's console: a JSON API and a live status page under `admin.path`
   * (default '/resilience'). Off unless `enabled: true`; needs a `token` or a `guard`.
   */
  admin?: ResilienceAdminOptions;
}

const INTERCEPTOR_MODES: InterceptorMode[] = ['routes', 'global', 'none'];

/** The `interceptor` option, or the deprecated `globalInterceptor`; both, disagreeing, is an error. */
export function interceptorMode(
  extras: Pick<ResilienceModuleExtras, 'interceptor' | 'globalInterceptor'>,
): InterceptorMode {
  const { interceptor, globalInterceptor } = extras;
  if (interceptor !== undefined && !INTERCEPTOR_MODES.includes(interceptor)) {
    throw new TypeError(
      `ResilienceModule.forRoot: interceptor must be one of ${INTERCEPTOR_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(interceptor)}`,
    );
  }
  if (globalInterceptor !== undefined && typeof globalInterceptor !== 'boolean') {
    throw new TypeError(
      `ResilienceModule.forRoot: globalInterceptor must be a boolean, got ${JSON.stringify(globalInterceptor)}`,
    );
  }
  const legacy = globalInterceptor === undefined ? undefined : globalInterceptor ? 'global' : 'none';
  if (interceptor !== undefined && legacy !== undefined && interceptor !== legacy) {
    throw new TypeError(
      `ResilienceModule.forRoot: interceptor '${interceptor}' and globalInterceptor ${globalInterceptor} disagree; keep interceptor (globalInterceptor is deprecated)`,
    );
  }
  return interceptor ?? legacy ?? 'routes';
}
