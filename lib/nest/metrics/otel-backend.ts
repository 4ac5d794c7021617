import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { optionalPeer } from '../../runtime/optional-peer.js';
import type {
  CounterInstrument,
  GaugeRows,
  HistogramInstrument,
  InstrumentSpec,
  Labels,
  MetricsBackend,
} from './metrics-backend.js';

export type OtelApi = typeof import('@opentelemetry/api');

/** @opentelemetry/api, when installed (an optional peer: only needed for provider 'opentelemetry' and tracing). */
export function loadOtelApi(): OtelApi | undefined {
  return optionalPeer<OtelApi>('@opentelemetry/api');
}

/** The meter's instruments and gauge sources, per meter: two applications in one process share them. */
const byMeter = new WeakMap<Meter, Map<string, unknown>>();

/**
 * The global MeterProvider of @opentelemetry/api, through a meter named after the package:
 * counters, a histogram with the same buckets, and observable gauges read at collection time.
 * Names and label names are prom-client's, so the OTel Prometheus exporter yields the same
 * series (plus its `otel_scope_name` label) and the shipped alert rules read either.
 */
export class OtelMetricsBackend implements MetricsBackend {
  readonly kind = 'opentelemetry';
  private readonly instruments: Map<string, unknown>;

  constructor(private readonly meter: Meter) {
    const instruments = byMeter.get(meter) ?? new Map<string, unknown>();
    byMeter.set(meter, instruments);
    this.instruments = instruments;
  }

  static fromGlobal(api: OtelApi, version?: string): OtelMetricsBackend {
    return new OtelMetricsBackend(api.metrics.getMeter('nest-resilience', version));
  }

  private once<T>(name: string, create: () => T): T {
    if (!this.instruments.has(name)) this.instruments.set(name, create());
    return this.instruments.get(name) as T;
  }

  counter<L extends string>({ name, help, unit }: InstrumentSpec<L>): CounterInstrument<L> {
    return this.once(name, () => {
      const counter: Counter = this.meter.createCounter(name, { description: help, unit });
      return { inc: (labels: Labels<L>, value = 1) => counter.add(value, labels as Attributes) };
    });
  }

  histogram<L extends string>({
    name,
    help,
    unit,
    buckets,
  }: InstrumentSpec<L> & { buckets: number[] }): HistogramInstrument<L> {
    return this.once(name, () => {
      const histogram: Histogram = this.meter.createHistogram(name, {
        description: help,
        unit,
        advice: { explicitBucketBoundaries: buckets },
      });
      return { observe: (labels: Labels<L>, value: number) => histogram.record(value, labels as Attributes) };
    });
  }

  gauge<S>(
    { name, help, unit }: InstrumentSpec,
    read: (sources: ReadonlySet<S>) => GaugeRows | Promise<GaugeRows>,
    shared?: Set<S>,
  ): Set<S> {
    return this.once(name, () => {
      const sources = shared ?? new Set<S>();
      this.meter.createObservableGauge(name, { description: help, unit }).addCallback(async (result) => {
        for (const [labels, value] of await read(sources)) result.observe(value, labels);
      });
      return sources;
    });
  }
}
