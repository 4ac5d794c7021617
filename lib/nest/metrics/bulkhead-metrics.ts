import type { Counter, Gauge, Registry } from 'prom-client';
import type { PromClient } from './prom-client-loader.js';

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
    const existing = registry.getSingleMetric(name('bulkhead_concurrency')) as Gauge<'service'> | undefined;
    if (existing) {
      this.sources = (existing as unknown as Record<symbol, Set<BulkheadSource>>)[SOURCES];
    } else {
      const sources = new Set<BulkheadSource>();
      const gauge = (base: string, help: string, pick: (inFlight: number, limit: number, queued: number) => number) =>
        new prom.Gauge<'service'>({
          name: name(base),
          help,
          labelNames: ['service'],
          registers: [registry],
          collect() {
            this.reset();
            for (const source of sources) {
              for (const [service, inFlight, limit, queued] of source())
                this.set({ service }, pick(inFlight, limit, queued));
            }
          },
        });
      const concurrency = gauge('bulkhead_concurrency', 'Calls running in a bulkhead', (inFlight) => inFlight);
      gauge(
        'bulkhead_limit',
        'Calls a bulkhead lets run at once (fixed, or the adaptive limit now)',
        (_, limit) => limit,
      );
      gauge('bulkhead_queue_size', 'Calls waiting for a bulkhead slot', (_, __, queued) => queued);
      Object.defineProperty(concurrency, SOURCES, { value: sources });
      this.sources = sources;
    }
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
