import type { Gauge, Registry } from 'prom-client';
import type { PromClient } from './prom-client-loader.js';

/** Rows of per-service values, read at every scrape. */
export type ScrapeSource<V extends number[]> = () => Iterable<[service: string, ...values: V]>;

export interface ScrapeGauge<V extends number[]> {
  name: string;
  help: string;
  pick: (...values: V) => number;
}

/**
 * Gauges labelled by service, each read at scrape time from one shared set of sources. Looked
 * up before they are created (the set rides on the first gauge under `key`), so two
 * applications in one process share them. Returns the set of sources.
 */
export function scrapeGauges<V extends number[]>(
  prom: PromClient,
  registry: Registry,
  key: symbol,
  gauges: ScrapeGauge<V>[],
): Set<ScrapeSource<V>> {
  const existing = registry.getSingleMetric(gauges[0].name) as Gauge<'service'> | undefined;
  if (existing) return (existing as unknown as Record<symbol, Set<ScrapeSource<V>>>)[key];
  const sources = new Set<ScrapeSource<V>>();
  const created = gauges.map(
    ({ name, help, pick }) =>
      new prom.Gauge<'service'>({
        name,
        help,
        labelNames: ['service'],
        registers: [registry],
        collect() {
          this.reset();
          for (const source of sources) {
            for (const [service, ...values] of source()) this.set({ service }, pick(...(values as V)));
          }
        },
      }),
  );
  Object.defineProperty(created[0], key, { value: sources });
  return sources;
}
