import { ConfigurableModuleBuilder, type InjectionToken, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { RedisClientLike } from '../config/schema.js';
import type { ResilienceConfig } from '../config/types.js';
import { adminControllersAt } from './admin/admin.controller.js';
import { AdminAccess, RESILIENCE_ADMIN } from './admin/admin-access.js';
import { AdminConsole } from './admin/admin-console.service.js';
import { adminSettings } from './admin/admin-options.js';
import { PatternTallies } from './admin/pattern-tallies.js';
import { ResilienceInterceptor } from './http/resilience.interceptor.js';
import { interceptorMode, type ResilienceModuleExtras } from './module-options.js';
import {
  RESILIENCE_CONFIG_KEY,
  RESILIENCE_DLQ_BACKEND,
  RESILIENCE_INTERCEPTOR_MODE,
  RESILIENCE_RATE_LIMIT_STORE,
  RESILIENCE_ROLLOUT,
  RESILIENCE_USER_REDIS,
} from './tokens.js';

/** The `redisClient` option as a provider: the client itself, or an alias of its token. */
function userRedisProvider(redisClient: ResilienceModuleExtras['redisClient']): Provider {
  if (redisClient === undefined || redisClient === null) return { provide: RESILIENCE_USER_REDIS, useValue: null };
  const isClient = typeof redisClient === 'object' && typeof (redisClient as RedisClientLike).status === 'string';
  return isClient
    ? { provide: RESILIENCE_USER_REDIS, useValue: redisClient }
    : { provide: RESILIENCE_USER_REDIS, useExisting: redisClient as InjectionToken };
}

export type { DeadLetterBackendFactory, InterceptorMode, ResilienceModuleExtras } from './module-options.js';
export { interceptorMode } from './module-options.js';
export { RESILIENCE_CONFIG_KEY, RESILIENCE_ROLLOUT };

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RESILIENCE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResilienceConfig>({ moduleName: 'Resilience' })
  .setClassMethodName('forRoot')
  .setExtras<ResilienceModuleExtras>(
    {
      isGlobal: false,
      configKey: 'resilience',
      rolloutFlag: undefined,
      interceptor: undefined,
      globalInterceptor: undefined,
      rateLimitStore: undefined,
      deadLetterBackend: undefined,
      redisClient: undefined,
      admin: undefined,
    },
    (definition, extras) => {
      const mode = interceptorMode(extras);
      const admin = adminSettings(extras.admin);
      return {
        ...definition,
        global: extras.isGlobal,
        controllers: admin.enabled ? adminControllersAt(admin.path) : [],
        providers: [
          ...(admin.enabled
            ? [{ provide: RESILIENCE_ADMIN, useValue: admin }, AdminAccess, AdminConsole, PatternTallies]
            : []),
          ...(definition.providers ?? []),
          { provide: RESILIENCE_CONFIG_KEY, useValue: extras.configKey },
          { provide: RESILIENCE_ROLLOUT, useValue: extras.rolloutFlag ?? null },
          { provide: RESILIENCE_INTERCEPTOR_MODE, useValue: mode },
          { provide: RESILIENCE_RATE_LIMIT_STORE, useValue: extras.rateLimitStore ?? null },
          { provide: RESILIENCE_DLQ_BACKEND, useValue: extras.deadLetterBackend ?? null },
          userRedisProvider(extras.redisClient),
          ...(mode === 'global' ? [{ provide: APP_INTERCEPTOR, useExisting: ResilienceInterceptor }] : []),
        ],
      };
    },
  )
  .build();
