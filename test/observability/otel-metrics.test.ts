import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type HistogramMetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { register } from 'prom-client';
import { runScenario, scenarioConfig } from '../support/otel-scenario.js';
import { freePort } from '../support/redis-server.js';

/** Collects on demand (what an exporter's reader does on its schedule). */
class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

type Kind = 'counter' | 'gauge' | 'histogram';
/** Series as Prometheus shows them: `name{label="v",...}` -> value, and each name's kind. */
interface Exposition {
  kinds: Map<string, Kind>;
  series: Map<string, number>;
}

/** What OpenTelemetry's descriptors add: each instrument's unit, and those without one. */
interface Units {
  units: Map<string, string>;
  unitless: string[];
}

const seriesKey = (name: string, labels: Record<string, unknown>) =>
  `${name}{${Object.entries(labels)
    .filter(([k]) => k !== 'otel_scope_name')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

async function fromPromClient(): Promise<Exposition> {
  const kinds = new Map<string, Kind>();
  const series = new Map<string, number>();
  for (const metric of await register.getMetricsAsJSON()) {
    kinds.set(metric.name, metric.type as unknown as Kind);
    for (const { labels, value, metricName } of metric.values as {
      labels: Record<string, string | number>;
      value: number;
      metricName?: string;
    }[]) {
      series.set(seriesKey(metricName ?? metric.name, labels), value);
    }
  }
  return { kinds, series };
}

async function fromOpenTelemetry(reader: TestReader): Promise<Exposition & Units> {
  const kinds = new Map<string, Kind>();
  const series = new Map<string, number>();
  const units = new Map<string, string>();
  const unitless: string[] = [];
  const { resourceMetrics } = await reader.collect();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const name = metric.descriptor.name;
      if (metric.descriptor.unit) units.set(name, metric.descriptor.unit);
      else unitless.push(name);
      if (metric.dataPointType === DataPointType.HISTOGRAM) {
        kinds.set(name, 'histogram');
        for (const point of (metric as HistogramMetricData).dataPoints) {
          const { boundaries, counts } = point.value.buckets;
          let cumulative = 0;
          boundaries.forEach((le, i) => {
            cumulative += counts[i];
            series.set(seriesKey(`${name}_bucket`, { ...point.attributes, le }), cumulative);
          });
          series.set(seriesKey(`${name}_bucket`, { ...point.attributes, le: '+Inf' }), point.value.count);
          series.set(seriesKey(`${name}_sum`, point.attributes), point.value.sum ?? 0);
          series.set(seriesKey(`${name}_count`, point.attributes), point.value.count);
        }
        continue;
      }
      kinds.set(name, metric.dataPointType === DataPointType.SUM ? 'counter' : 'gauge');
      for (const point of metric.dataPoints) series.set(seriesKey(name, point.attributes), point.value as number);
    }
  }
  return { kinds, series, units, unitless };
}

const INSTRUMENTS: [string, Kind][] = [
  ['circuit_breaker_state', 'gauge'],
  ['circuit_breaker_failures_total', 'counter'],
  ['circuit_breaker_transitions_total', 'counter'],
  ['circuit_breaker_rejections_total', 'counter'],
  ['retry_attempts', 'histogram'],
  ['retries_total', 'counter'],
  ['rate_limit_rejections_total', 'counter'],
  ['requests_total', 'counter'],
  ['dlq_size', 'gauge'],
  ['dlq_oldest_message_age_seconds', 'gauge'],
  ['dlq_added_total', 'counter'],
  ['dlq_replayed_total', 'counter'],
  ['rollout_calls_total', 'counter'],
  ['bulkhead_concurrency', 'gauge'],
  ['bulkhead_limit', 'gauge'],
  ['bulkhead_queue_size', 'gauge'],
];

describe('metrics through OpenTelemetry (metrics.provider: opentelemetry) and prom-client, side by side', () => {
  it('every instrument has the same name, type, labels and values through an outage and recovery', async (t) => {
    const reader = new TestReader();
    // OpenTelemetry's own Prometheus exporter beside it: what a Prometheus scrapes.
    const port = await freePort();
    const exporter = new PrometheusExporter({ host: '127.0.0.1', port });
    t.after(() => exporter.shutdown());
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader, exporter] }));

    register.clear();
    const viaOtel = await runScenario(scenarioConfig('opentelemetry'));
    const otel = await fromOpenTelemetry(reader);
    const exposition = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await viaOtel.moduleRef.close();
    assert.equal((await register.getMetricsAsJSON()).length, 0, 'nothing went to prom-client');

    const viaProm = await runScenario(scenarioConfig('prom-client'));
    const prom = await fromPromClient();
    await viaProm.moduleRef.close();

    for (const [name, kind] of INSTRUMENTS) {
      assert.equal(otel.kinds.get(name), kind, `${name} through OpenTelemetry`);
      assert.equal(prom.kinds.get(name), kind, `${name} through prom-client`);
      assert.ok(
        [...otel.series.keys()].some((k) => k.startsWith(`${name}{`) || k.startsWith(`${name}_`)),
        `${name} has series`,
      );
    }
    // prom-client lists instruments that never got a value; OpenTelemetry only those with data.
    const withSeries = (e: Exposition) => new Map([...e.series].filter(([, v]) => v !== undefined));
    assert.deepEqual(withSeries(otel), withSeries(prom));

    // A few values the scenario implies, read from the OpenTelemetry side.
    const value = (key: string) => otel.series.get(key);
    assert.equal(value('circuit_breaker_state{service="payments"}'), 0, 'closed after the recovery');
    assert.equal(value('circuit_breaker_transitions_total{from="closed",service="payments",to="open"}'), 1);
    const added = value('dlq_added_total{queue="payments"}') ?? 0;
    assert.ok(added > 0, 'the outage left dead letters');
    assert.equal(value('dlq_replayed_total{outcome="succeeded",queue="payments"}'), added, 'all replayed once back');
    assert.equal(value('dlq_size{queue="payments"}'), 0);
    assert.ok((value('rate_limit_rejections_total{key="payments"}') ?? 0) > 0, 'the storm was rate-limited');
    assert.equal(
      value('retry_attempts_bucket{le="2",operation="payments"}'),
      value('retry_attempts_count{operation="payments"}'),
    );

    // Units: on every instrument, seconds for the age; the exporter writes `# UNIT` and keeps
    // the names the alert rules query (no unit suffix added, none doubled).
    assert.deepEqual(otel.unitless, [], 'every instrument has a unit');
    assert.equal(otel.units.get('dlq_oldest_message_age_seconds'), 's');
    assert.equal(otel.units.get('circuit_breaker_failures_total'), '{failure}');
    assert.equal(otel.units.get('bulkhead_limit'), '{call}');
    assert.match(exposition, /^# UNIT dlq_oldest_message_age_seconds s$/m);
    assert.match(exposition, /^dlq_oldest_message_age_seconds\{/m);
    assert.doesNotMatch(exposition, /_seconds_seconds|_total_total/);
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map(([, name]) => name));
    exported.delete('target_info'); // the exporter's resource, not ours
    assert.deepEqual(
      [...exported].sort(),
      [...otel.kinds.keys()].sort(),
      'the exporter shows every instrument under its prom-client name',
    );

    for (const key of [...otel.series.keys()].sort())
      t.diagnostic(`${key} otel=${otel.series.get(key)} prom=${prom.series.get(key)}`);
  });
});
