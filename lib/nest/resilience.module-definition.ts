import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ResilienceConfig } from '../config/types.js';

/** Token of the ConfigService key read when forRoot() gets no configuration. */
export const RESILIENCE_CONFIG_KEY = Symbol('RESILIENCE_CONFIG_KEY');

export interface ResilienceModuleExtras {
  /** Register the module globally. */
  isGlobal?: boolean;
  /** ConfigService key read when no configuration is given (default 'resilience'). */
  configKey?: string;
  /** Live share (0-100) of a service's rollout, e.g. from a feature-flag client; undefined falls back to the configuration. */
  rolloutFlag?: (service: string) => number | undefined;
}

/** Provides the RolloutFlag that resilience-runtime reads (see RESILIENCE_ROLLOUT). */
export const RESILIENCE_ROLLOUT = Symbol('RESILIENCE_ROLLOUT');

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RESILIENCE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResilienceConfig>({ moduleName: 'Resilience' })
  .setClassMethodName('forRoot')
  .setExtras<ResilienceModuleExtras>(
    { isGlobal: false, configKey: 'resilience', rolloutFlag: undefined },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: [
        ...(definition.providers ?? []),
        { provide: RESILIENCE_CONFIG_KEY, useValue: extras.configKey },
        { provide: RESILIENCE_ROLLOUT, useValue: extras.rolloutFlag ?? null },
      ],
    }),
  )
  .build();
