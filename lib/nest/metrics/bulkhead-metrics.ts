import type { CounterInstrument, MetricsBackend } from './metrics-backend.js';
import { scrapeGauges } from './scrape-gauges.js';

/** Something that can measure its bulkheads at scrape time (one per application). */
export type BulkheadSource = () => Iterable<[service: string, inFlight: number, limit: number, queued: number]>;

/**
 * The bulkhead's metrics: three gauges read at scrape time (calls in flight, the limit in
 * force, calls queued) and a counter of rejections by reason. Looked up before they are
 * created, so two applications in one process share them (prom-client or OpenTelemetry).
 */
export class BulkheadMetrics {
  readonly rejections: CounterInstrument<'service' | 'reason'>;
  readonly rejectionsByCriticality: CounterInstrument<'service' | 'criticality'>;
  readonly swings: CounterInstrument<'service' | 'direction' | 'reason'>;
  private readonly sources: Set<BulkheadSource>;

  constructor(backend: MetricsBackend, prefix: string) {
    const name = (base: string) => `${prefix}${base}`;
    this.sources = scrapeGauges<[number, number, number]>(backend, [
      {
        name: name('bulkhead_concurrency'),
        help: 'Calls running in a bulkhead',
        unit: '{call}',
        pick: (inFlight) => inFlight,
      },
      {
        name: name('bulkhead_limit'),
        help: 'Calls a bulkhead lets run at once (fixed, or the adaptive limit now)',
        unit: '{call}',
        pick: (_, limit) => limit,
      },
      {
        name: name('bulkhead_queue_size'),
        help: 'Calls waiting for a bulkhead slot',
        unit: '{call}',
        pick: (_, __, queued) => queued,
      },
    ]);
    this.rejections = backend.counter({
      name: name('bulkhead_rejections_total'),
      help: 'Calls turned away by a bulkhead, by reason (full, queue_timeout)',
      unit: '{call}',
      labelNames: ['service', 'reason'],
    });
    this.rejectionsByCriticality = backend.counter({
      name: name('bulkhead_rejections_by_criticality_total'),
      help: 'Calls turned away by a bulkhead, by the criticality of the call (critical_plus, critical, sheddable_plus, sheddable)',
      unit: '{call}',
      labelNames: ['service', 'criticality'],
    });
    this.swings = backend.counter({
      name: name('bulkhead_limit_swings_total'),
      help: 'Adaptive limits that fell under half (or rose over twice) of their value within a minute, by direction and reason (latency, overload, timeout, growth)',
      unit: '{swing}',
      labelNames: ['service', 'direction', 'reason'],
    });
  }

  /** Measures `source`'s bulkheads at every scrape until the returned function is called. */
  add(source: BulkheadSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }
}
