import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { nearMissKey } from '../config/misleading-settings.js';
import type { RedisClientLike } from '../config/schema.js';
import type { ResilienceConfig } from '../config/types.js';
import { ResilienceConfigError } from '../core/errors.js';
import { ChaosExperiments } from './chaos/chaos-experiments.js';
import { CONFIG_SERVICE_TOKEN, type ConfigServiceLike } from './config-service-source.js';
import { InboundDeadlines } from './context/inbound-deadlines.js';
import { ResilienceHealthIndicator } from './health/resilience-health.indicator.js';
import { InterceptorBinding } from './http/interceptor-binding.js';
import { ResilienceInterceptor } from './http/resilience.interceptor.js';
import { metricsProvider } from './metrics/metrics.provider.js';
import { MetricsBinder, RESILIENCE_METRICS } from './metrics/metrics-binder.js';
import { PATTERN_SERVICES } from './patterns.js';
import { RolloutProgress } from './pipeline/rollout-progress.js';
import { RolloutShares } from './pipeline/rollout-shares.js';
import { stageProviders } from './pipeline/stage-providers.js';
import { TraceLifecycle, traceProvider } from './pipeline/trace.js';
import { RESILIENCE_REDIS, RedisLifecycle, redisProvider } from './redis/redis.provider.js';
import { ConfigReloads } from './reload/config-reloads.js';
import { FleetReloads } from './reload/fleet-reloads.js';
import { ResilienceExplorer } from './resilience.explorer.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  RESILIENCE_CONFIG_KEY,
  RESILIENCE_MODULE_OPTIONS,
} from './resilience.module-definition.js';
import { ResilienceRuntime } from './resilience-runtime.js';
import { ResilienceSettings } from './resilience-settings.js';
import { ResilienceService } from './services/resilience.service.js';
import { RESILIENCE_CLOCK, RESILIENCE_SLEEP, timingProviders } from './timing.js';
import { RESILIENCE_USER_REDIS } from './tokens.js';
import { tracingProvider } from './tracing/otel-tracing.js';
import { TracingBinder } from './tracing/tracing-binder.js';

/** True when forRoot() was given no configuration of its own (only extras or nothing). */
function isEmpty(options: ResilienceConfig | undefined): boolean {
  return !options || Object.keys(options).length === 0;
}

/**
 * ConfigService holds no `resilience` key: if it holds a near miss (`resillience:` in YAML,
 * `Resilience`), the boot fails naming it: on the defaults, every setting the application
 * wrote would be ignored without a word (it only warned before, and the app ran on defaults).
 */
function refuseNearMiss(configKey: string, config: ConfigServiceLike): void {
  const internal = (config as { internalConfig?: Record<string, unknown> }).internalConfig;
  const keys = new Set<string>(Object.keys(internal ?? {}));
  for (const nested of Object.values(internal ?? {})) {
    if (nested && typeof nested === 'object') for (const k of Object.keys(nested)) keys.add(k);
  }
  const near = nearMissKey(configKey, keys);
  if (near) {
    throw new ResilienceConfigError([
      {
        path: near,
        message: `ConfigService has no "${configKey}" key but has "${near}": did you mean "${configKey}"? (on the defaults, its settings would be ignored)`,
      },
    ]);
  }
}

const settingsProvider = {
  provide: ResilienceSettings,
  inject: [
    RESILIENCE_MODULE_OPTIONS,
    RESILIENCE_CONFIG_KEY,
    { token: CONFIG_SERVICE_TOKEN as symbol, optional: true },
    { token: RESILIENCE_USER_REDIS, optional: true },
  ],
  useFactory: (
    options: ResilienceConfig | undefined,
    configKey: string,
    config?: ConfigServiceLike,
    ownRedis?: RedisClientLike | null,
  ) => {
    const raw = (isEmpty(options) ? config?.get(configKey) : options) as ResilienceConfig | undefined;
    if (isEmpty(options) && raw === undefined && config) refuseNearMiss(configKey, config);
    // The `redisClient` option is `redis.client`: one way in, validated with the rest.
    const complete = (input: unknown) => {
      const own = input as ResilienceConfig | undefined;
      return ownRedis ? { ...own, redis: { ...own?.redis, client: ownRedis } } : own;
    };
    const settings = ResilienceSettings.create(complete(raw) ?? {});
    settings.completeRaw = complete;
    // reload() with no argument re-reads ConfigService's key (when the configuration came from it).
    if (isEmpty(options) && config) settings.source = () => config.get(configKey);
    return settings;
  },
};

/**
 * `ResilienceModule.forRoot(options?)`: with no options, reads the `resilience` key of
 * ConfigService when ConfigModule is loaded (`configKey` changes the key).
 * `ResilienceModule.forRootAsync({ imports, inject, useFactory | useClass | useExisting })`.
 */
const SERVICES = [
  ...PATTERN_SERVICES,
  ResilienceService,
  ResilienceHealthIndicator,
  ChaosExperiments,
  ConfigReloads,
  FleetReloads,
];

@Module({
  imports: [DiscoveryModule],
  providers: [
    settingsProvider,
    ...timingProviders,
    redisProvider,
    RedisLifecycle,
    ...SERVICES,
    ...stageProviders,
    traceProvider,
    TraceLifecycle,
    ResilienceRuntime,
    ResilienceExplorer,
    metricsProvider,
    MetricsBinder,
    tracingProvider,
    TracingBinder,
    ResilienceInterceptor,
    InterceptorBinding,
  ],
  exports: [
    ResilienceSettings,
    ResilienceInterceptor,
    ResilienceRuntime,
    RESILIENCE_METRICS,
    RESILIENCE_CLOCK,
    RESILIENCE_SLEEP,
    RESILIENCE_REDIS,
    RolloutShares,
    RolloutProgress,
    // ResilienceInterceptor reads the caller's deadline with it; an app that applies the
    // interceptor itself (@UseInterceptors) has Nest build one in its own module.
    InboundDeadlines,
    ...SERVICES,
  ],
})
export class ResilienceModule extends ConfigurableModuleClass {
  /** Before any router or message handler exists (a microservice builds them before onModuleInit). */
  constructor(binding: InterceptorBinding) {
    super();
    binding.bind();
  }

  static override forRoot(options: typeof OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }
}
