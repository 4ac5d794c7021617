import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { nearMissKey } from './misleading-settings.js';
import { KNOWN_KEYS } from './schema-parts.js';

/** A problem with the file itself (unreadable, not JSON/YAML): exit code 2, with this message. */
export class ConfigFileError extends Error {}

/**
 * Reads a configuration file: JSON, or YAML (`.yaml`/`.yml`, with the optional `yaml` package).
 * The file holds the `resilience` key's value, or is a whole application configuration with a
 * `resilience` key beside the app's own (`server:`, `database:`...), read as ConfigService reads
 * it: only that key. A whole file with a near miss of it (`resillience:`) is an error, as at boot.
 */
export async function loadConfigFile(path: string, key = 'resilience'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  const data = yaml ? await parseYaml(text, path) : parseJson(text, path);
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const record = data as Record<string, unknown>;
    if (Object.hasOwn(record, key)) return record[key] ?? {};
    const keys = Object.keys(record);
    // Keys that are none of the configuration's: an application file whose resilience key is misspelt.
    const foreign = keys.filter((k) => !KNOWN_KEYS.has(k));
    const near = nearMissKey(key, keys);
    if (near && foreign.length > 0) {
      throw new ConfigFileError(`${path} has no "${key}" key but has "${near}": did you mean "${key}"?`);
    }
  }
  return data ?? {};
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

async function parseYaml(text: string, path: string): Promise<unknown> {
  let yaml: typeof import('yaml');
  try {
    yaml = await import('yaml');
  } catch {
    throw new ConfigFileError(`${path} is YAML, and reading YAML needs the "yaml" package: npm i -D yaml`);
  }
  try {
    return yaml.parse(text);
  } catch (error) {
    throw new ConfigFileError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
}
