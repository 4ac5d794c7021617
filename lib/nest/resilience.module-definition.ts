import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { ResilienceConfig } from '../config/types.js';
import { ResilienceInterceptor } from './http/resilience.interceptor.js';
import { RESILIENCE_CONFIG_KEY, RESILIENCE_ROLLOUT } from './tokens.js';

export interface ResilienceModuleExtras {
  /** Register the module globally. */
  isGlobal?: boolean;
  /** ConfigService key read when no configuration is given (default 'resilience'). */
  configKey?: string;
  /** Live share (0-100) of a service's rollout, e.g. from a feature-flag client; undefined falls back to the configuration. */
  rolloutFlag?: (service: string) => number | undefined;
  /**
   * Register ResilienceInterceptor for every route (default true). Any global interceptor
   * costs a Nest 12 app about 15% of its throughput on a trivial route; with false, put
   * @UseInterceptors(ResilienceInterceptor) on the controllers that need 429/503 mapping,
   * RateLimit headers, or request-based keys.
   */
  globalInterceptor?: boolean;
}

export { RESILIENCE_CONFIG_KEY, RESILIENCE_ROLLOUT };

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RESILIENCE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResilienceConfig>({ moduleName: 'Resilience' })
  .setClassMethodName('forRoot')
  .setExtras<ResilienceModuleExtras>(
    { isGlobal: false, configKey: 'resilience', rolloutFlag: undefined, globalInterceptor: true },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: [
        ...(definition.providers ?? []),
        { provide: RESILIENCE_CONFIG_KEY, useValue: extras.configKey },
        { provide: RESILIENCE_ROLLOUT, useValue: extras.rolloutFlag ?? null },
        ...(extras.globalInterceptor === false ? [] : [{ provide: APP_INTERCEPTOR, useClass: ResilienceInterceptor }]),
      ],
    }),
  )
  .build();
