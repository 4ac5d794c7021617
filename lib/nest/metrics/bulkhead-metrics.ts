import type { Counter, Registry } from 'prom-client';
import type { PromClient } from './prom-client-loader.js';
import { scrapeGauges } from './scrape-gauges.js';

/** Something that can measure its bulkheads at scrape time (one per application). */
export type BulkheadSource = () => Iterable<[service: string, inFlight: number, limit: number, queued: number]>;

const SOURCES = Symbol.for('nest-resilience:bulkhead-sources');

/**
 * The bulkhead's metrics: three gauges read at scrape time (calls in flight, the limit in
 * force, calls queued) and a counter of rejections by reason. Looked up before they are
 * created, so two applications in one process share them.
 */
export class BulkheadMetrics {
  readonly rejections: Counter<'service' | 'reason'>;
  private readonly sources: Set<BulkheadSource>;

  constructor(prom: PromClient, prefix: string, registry: Registry) {
    const name = (base: string) => `${prefix}${base}`;
    this.sources = scrapeGauges<[number, number, number]>(prom, registry, SOURCES, [
      { name: name('bulkhead_concurrency'), help: 'Calls running in a bulkhead', pick: (inFlight) => inFlight },
      {
        name: name('bulkhead_limit'),
        help: 'Calls a bulkhead lets run at once (fixed, or the adaptive limit now)',
        pick: (_, limit) => limit,
      },
      { name: name('bulkhead_queue_size'), help: 'Calls waiting for a bulkhead slot', pick: (_, __, queued) => queued },
    ]);
    this.rejections =
      (registry.getSingleMetric(name('bulkhead_rejections_total')) as Counter<'service' | 'reason'> | undefined) ??
      new prom.Counter<'service' | 'reason'>({
        name: name('bulkhead_rejections_total'),
        help: 'Calls turned away by a bulkhead, by reason (full, queue_timeout)',
        labelNames: ['service', 'reason'],
        registers: [registry],
      });
  }

  /** Measures `source`'s bulkheads at every scrape until the returned function is called. */
  add(source: BulkheadSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }
}
