import type { MetricsBackend } from './metrics-backend.js';

/** Rows of per-service values, read at every scrape. */
export type ScrapeSource<V extends number[]> = () => Iterable<[service: string, ...values: V]>;

export interface ScrapeGauge<V extends number[]> {
  name: string;
  help: string;
  unit: string;
  pick: (...values: V) => number;
}

/**
 * Gauges labelled by service, each read at scrape time from one shared set of sources
 * (shared, too, by two applications of one process). Returns the set of sources.
 */
export function scrapeGauges<V extends number[]>(
  backend: MetricsBackend,
  gauges: ScrapeGauge<V>[],
): Set<ScrapeSource<V>> {
  let sources: Set<ScrapeSource<V>> | undefined;
  for (const { name, help, unit, pick } of gauges) {
    sources = backend.gauge<ScrapeSource<V>>(
      { name, help, unit, labelNames: ['service'] },
      (all) =>
        [...all].flatMap((source) =>
          [...source()].map(
            ([service, ...values]) => [{ service }, pick(...(values as V))] as [Record<string, string>, number],
          ),
        ),
      sources,
    );
  }
  return sources as Set<ScrapeSource<V>>;
}
