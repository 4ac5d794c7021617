/** Label values of one series: configured names (service, limiter, queue), never request data. */
export type Labels<L extends string> = Partial<Record<L, string>>;

export interface CounterInstrument<L extends string> {
  inc(labels: Labels<L>, value?: number): void;
}

export interface HistogramInstrument<L extends string> {
  observe(labels: Labels<L>, value: number): void;
}

/** What a gauge reports at collection: one value per label set. */
export type GaugeRows = Iterable<[labels: Record<string, string>, value: number]>;

/**
 * What names an instrument. `unit` is UCUM as OpenTelemetry asks (`s` for seconds, `{call}`
 * for a count of calls): the OpenTelemetry backend sets it on the instrument (its Prometheus
 * exporter writes it as `# UNIT` and keeps the name); prom-client has no unit but the name's
 * suffix, which the names already carry (`_seconds`, `_total`).
 */
export interface InstrumentSpec<L extends string = string> {
  name: string;
  help: string;
  unit: string;
  labelNames: L[];
}

/**
 * Where the module's instruments live: prom-client's registry or an OpenTelemetry meter. An
 * instrument is looked up before it is created, so two applications in one process share it.
 */
export interface MetricsBackend {
  readonly kind: 'prom-client' | 'opentelemetry';
  counter<L extends string>(spec: InstrumentSpec<L>): CounterInstrument<L>;
  histogram<L extends string>(spec: InstrumentSpec<L> & { buckets: number[] }): HistogramInstrument<L>;
  /**
   * A gauge read at collection time from a set of sources shared by every application of the
   * process (each adds its own and removes it when it closes); `shared` lets several gauges
   * read one set. Returns the set.
   */
  gauge<S>(
    spec: InstrumentSpec,
    read: (sources: ReadonlySet<S>) => GaugeRows | Promise<GaugeRows>,
    shared?: Set<S>,
  ): Set<S>;
}
