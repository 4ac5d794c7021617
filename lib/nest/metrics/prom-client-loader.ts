import { createRequire } from 'node:module';

export type PromClient = typeof import('prom-client');

/** prom-client, when installed (an optional peer: only needed when metrics are on). */
export function loadPromClient(): PromClient | undefined {
  try {
    return createRequire(import.meta.url)('prom-client') as PromClient;
  } catch {
    return undefined;
  }
}
