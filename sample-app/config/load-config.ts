import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The sample's config folder, whether run from sources or from dist/. */
const CONFIG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sample-app', 'config');

/**
 * `<SAMPLE_CONFIG or NODE_ENV>.yaml` (development by default), for ConfigModule's `load`.
 * With REDIS_URL set, the limiters and the dead-letter queues use that Redis; METRICS_PROVIDER
 * sets `metrics.provider` (see telemetry.ts for 'opentelemetry').
 */
export function loadYamlConfig(
  name = process.env.SAMPLE_CONFIG || process.env.NODE_ENV || 'development',
): Record<string, unknown> {
  const config = parse(readFileSync(join(CONFIG_DIR, `${name}.yaml`), 'utf8')) as {
    resilience: Record<string, unknown>;
  };
  const provider = process.env.METRICS_PROVIDER;
  if (provider) config.resilience.metrics = { ...(config.resilience.metrics as object), provider };
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl) {
    config.resilience.redis = { ...(config.resilience.redis as object), url: redisUrl };
    config.resilience.deadLetter = {
      ...(config.resilience.deadLetter as object),
      storageBackend: 'redis',
      storageConfig: {},
    };
  }
  return config;
}
