import { optionalPeer } from '../../runtime/optional-peer.js';

export type PromClient = typeof import('prom-client');

/** prom-client, when installed (an optional peer: only needed when metrics are on). */
export function loadPromClient(): PromClient | undefined {
  return optionalPeer<PromClient>('prom-client');
}
