import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ResilienceConfig } from '../config/types.js';

/** Token of the ConfigService key read when forRoot() gets no configuration. */
export const RESILIENCE_CONFIG_KEY = Symbol('RESILIENCE_CONFIG_KEY');

export interface ResilienceModuleExtras {
  /** Register the module globally. */
  isGlobal?: boolean;
  /** ConfigService key read when no configuration is given (default 'resilience'). */
  configKey?: string;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RESILIENCE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResilienceConfig>({ moduleName: 'Resilience' })
  .setClassMethodName('forRoot')
  .setExtras<ResilienceModuleExtras>({ isGlobal: false, configKey: 'resilience' }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [...(definition.providers ?? []), { provide: RESILIENCE_CONFIG_KEY, useValue: extras.configKey }],
  }))
  .build();
