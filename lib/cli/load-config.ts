import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

/** A problem with the file itself (unreadable, not JSON/YAML): exit code 2, with this message. */
export class ConfigFileError extends Error {}

/**
 * Reads a configuration file: JSON, or YAML (`.yaml`/`.yml`, with the optional `yaml` package).
 * The file holds the `resilience` key's value; a file whose only top-level key is
 * `resilience` (a whole application config) is unwrapped.
 */
export async function loadConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  const data = yaml ? await parseYaml(text, path) : parseJson(text, path);
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const keys = Object.keys(data);
    if (keys.length === 1 && keys[0] === 'resilience') return (data as { resilience: unknown }).resilience;
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
