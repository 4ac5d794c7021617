import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GaugeRows, InstrumentSpec, MetricsBackend } from './metrics-backend.js';
import type { PromClient } from './prom-client-loader.js';

const SOURCES = Symbol.for('nest-resilience:gauge-sources');

/** prom-client's registry (the default one unless given): the instruments are prom-client's own. */
export class PromMetricsBackend implements MetricsBackend {
  readonly kind = 'prom-client';

  constructor(
    private readonly prom: PromClient,
    readonly registry: Registry = prom.register,
  ) {}

  counter<L extends string>({ name, help, labelNames }: InstrumentSpec<L>): Counter<L> {
    return (
      (this.registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new this.prom.Counter<L>({ name, help, labelNames, registers: [this.registry] })
    );
  }

  histogram<L extends string>({
    name,
    help,
    labelNames,
    buckets,
  }: InstrumentSpec<L> & { buckets: number[] }): Histogram<L> {
    return (
      (this.registry.getSingleMetric(name) as Histogram<L> | undefined) ??
      new this.prom.Histogram<L>({ name, help, labelNames, buckets, registers: [this.registry] })
    );
  }

  gauge<S>(
    { name, help, labelNames }: InstrumentSpec,
    read: (sources: ReadonlySet<S>) => GaugeRows | Promise<GaugeRows>,
    shared?: Set<S>,
  ): Set<S> {
    const existing = this.registry.getSingleMetric(name) as (Gauge & { [SOURCES]?: Set<S> }) | undefined;
    if (existing) return existing[SOURCES] ?? shared ?? new Set();
    const sources = shared ?? new Set<S>();
    const gauge = new this.prom.Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      // Read at scrape time, from the applications alive now: a closed app's series disappear.
      async collect() {
        const rows = await read(sources);
        this.reset();
        for (const [labels, value] of rows) this.set(labels, value);
      },
    });
    Object.defineProperty(gauge, SOURCES, { value: sources });
    return sources;
  }
}
