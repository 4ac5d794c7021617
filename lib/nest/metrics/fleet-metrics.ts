import type { CounterInstrument, MetricsBackend } from './metrics-backend.js';
import { scrapeGauges } from './scrape-gauges.js';

/** Something that can count, at scrape time, the replicas of its quorum breakers. */
export type FleetSource = () => Iterable<[service: string, live: number, open: number]>;

/**
 * The metrics of breakers whose state is in Redis: a counter of failed store calls (the
 * breaker acted on its own meanwhile) and, for quorum breakers, gauges of the replicas
 * live and open as this replica last heard. Looked up before they are created, so two
 * applications in one process share them.
 */
export class FleetMetrics {
  readonly storeErrors: CounterInstrument<'service'>;
  private readonly sources: Set<FleetSource>;

  constructor(backend: MetricsBackend, prefix: string) {
    const name = (base: string) => `${prefix}${base}`;
    this.sources = scrapeGauges<[number, number]>(backend, [
      {
        name: name('circuit_breaker_replicas_open'),
        help: 'Replicas whose own breaker is open (scope quorum)',
        unit: '{replica}',
        pick: (_, open) => open,
      },
      {
        name: name('circuit_breaker_replicas_live'),
        help: 'Replicas heard from lately (scope quorum)',
        unit: '{replica}',
        pick: (live) => live,
      },
    ]);
    this.storeErrors = backend.counter({
      name: name('circuit_breaker_store_errors_total'),
      help: 'Calls of a shared or quorum breaker to Redis that failed (it acts on its own until Redis answers)',
      unit: '{error}',
      labelNames: ['service'],
    });
  }

  /** Counts `source`'s replicas at every scrape until the returned function is called. */
  add(source: FleetSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }
}
