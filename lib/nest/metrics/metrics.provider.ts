import { ResilienceConfigError } from '../../core/errors.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_METRICS } from './metrics-binder.js';
import { loadOtelApi, OtelMetricsBackend } from './otel-backend.js';
import { PromMetricsBackend } from './prom-backend.js';
import { loadPromClient } from './prom-client-loader.js';
import { ResilienceMetrics } from './resilience-metrics.js';

const missing = (path: string, message: string) => new ResilienceConfigError([{ path, message }]);

/**
 * `metrics.provider`: 'prom-client' (prom-client's default registry, which
 * @willsoto/nestjs-prometheus serves at /metrics), 'opentelemetry' (the global MeterProvider of
 * @opentelemetry/api) or 'none'. Unset: prom-client when installed, else none.
 * `metrics.enabled`: false is 'none'; true requires the provider's package.
 */
export const metricsProvider = {
  provide: RESILIENCE_METRICS,
  inject: [ResilienceSettings],
  useFactory: (settings: ResilienceSettings): ResilienceMetrics | null => {
    const { enabled, prefix = '', provider } = settings.config.metrics ?? {};
    if (enabled === false && provider !== undefined && provider !== 'none') {
      throw missing('metrics.enabled', `is false but metrics.provider is '${provider}': remove one of them`);
    }
    if (enabled === false || provider === 'none') return null;
    if (provider === 'opentelemetry') {
      const api = loadOtelApi();
      if (!api) {
        throw missing(
          'metrics.provider',
          'is \'opentelemetry\' but the optional peer "@opentelemetry/api" is not installed (npm i @opentelemetry/api)',
        );
      }
      // The API hands out no-op meters until a provider is registered, and they stay no-op.
      if (api.metrics.getMeterProvider().constructor?.name === 'NoopMeterProvider') {
        throw missing(
          'metrics.provider',
          "is 'opentelemetry' but no MeterProvider is registered: register one (metrics.setGlobalMeterProvider, or the NodeSDK's start()) before the Nest app is created, or the instruments record nothing",
        );
      }
      if (prefix.includes(':')) {
        throw missing(
          'metrics.prefix',
          "cannot hold ':' with provider 'opentelemetry' (not valid in an OpenTelemetry instrument name)",
        );
      }
      return new ResilienceMetrics(OtelMetricsBackend.fromGlobal(api), prefix);
    }
    const prom = loadPromClient();
    if (!prom) {
      if (enabled || provider === 'prom-client') {
        throw missing(
          provider ? 'metrics.provider' : 'metrics.enabled',
          `${provider ? "is 'prom-client'" : 'is true'} but the optional peer "prom-client" is not installed (npm i prom-client)`,
        );
      }
      return null;
    }
    return new ResilienceMetrics(new PromMetricsBackend(prom), prefix);
  },
};
