import { packageRequire } from './package-require.js';

/** An optional peer dependency, or undefined when the application has not installed it. */
export function optionalPeer<T>(name: string): T | undefined {
  try {
    return packageRequire(name) as T;
  } catch {
    return undefined;
  }
}
