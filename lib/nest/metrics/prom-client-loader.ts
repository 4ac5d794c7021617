import { packageRequire } from '../../runtime/package-require.js';

export type PromClient = typeof import('prom-client');

/** prom-client, when installed (an optional peer: only needed when metrics are on). */
export function loadPromClient(): PromClient | undefined {
  try {
    return packageRequire('prom-client') as PromClient;
  } catch {
    return undefined;
  }
}
