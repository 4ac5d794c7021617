import { ResilienceConfigError } from '../../core/errors.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_METRICS } from './metrics-binder.js';
import { loadPromClient } from './prom-client-loader.js';
import { ResilienceMetrics } from './resilience-metrics.js';

/**
 * `metrics.enabled`: true requires prom-client; false turns metrics off; unset turns
 * them on when prom-client is installed. Metrics go to prom-client's default registry,
 * which @willsoto/nestjs-prometheus serves at /metrics.
 */
export const metricsProvider = {
  provide: RESILIENCE_METRICS,
  inject: [ResilienceSettings],
  useFactory: (settings: ResilienceSettings): ResilienceMetrics | null => {
    const { enabled, prefix } = settings.config.metrics ?? {};
    if (enabled === false) return null;
    const prom = loadPromClient();
    if (!prom) {
      if (enabled) {
        throw new ResilienceConfigError([
          {
            path: 'metrics.enabled',
            message: 'is true but the optional peer "prom-client" is not installed (npm i prom-client)',
          },
        ]);
      }
      return null;
    }
    return new ResilienceMetrics(prom, prefix);
  },
};
