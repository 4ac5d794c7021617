import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The sample's config folder, whether run from sources or from dist/. */
const CONFIG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sample-app', 'config');

/** Loads `<NODE_ENV>.yaml` (development when unset) for ConfigModule's `load`. */
export function loadYamlConfig(environment = process.env.NODE_ENV || 'development'): Record<string, unknown> {
  const file = join(CONFIG_DIR, `${environment}.yaml`);
  return parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}
