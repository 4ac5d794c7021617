import { ADVISE_METRICS, type AdviseMetric } from './metric-names.js';

/** One series of a range query (or of increases()): its labels and its [epoch s, value] points. */
export interface Series {
  labels: Record<string, string>;
  points: [number, number][];
}

/** A counter's increase between consecutive points (a drop is a restart: the new value is the increase). */
export function increments(points: [number, number][]): number[] {
  const out: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const v = points[i][1];
    const previous = points[i - 1][1];
    out.push(v >= previous ? v - previous : v);
  }
  return out;
}

/** Prometheus's HTTP API, range queries only (what `advise` needs). */
export class PrometheusClient {
  /** `prefix`: the application's `metrics.prefix`, put before every metric name. */
  constructor(
    private readonly url: string,
    private readonly prefix = '',
  ) {}

  /** The exported name of one of the metrics advise reads (with the prefix). */
  metric(which: AdviseMetric, suffix = ''): string {
    return `${this.prefix}${ADVISE_METRICS[which].name}${suffix}`;
  }

  /**
   * A counter's increase at each step, summed `by` these labels, computed per series first:
   * each pod's counter is differenced on its own (a drop is that counter's restart), then the
   * increases are added. Summing counters across pods first made a replaced pod look like a
   * reset of the sum: 3 days with one replacement showed an outage and a 10% false-positive
   * rate that PromQL's own increase() never saw. The first step of each series counts none.
   */
  async increases(counter: string, by: string[], start: number, end: number, stepSeconds: number): Promise<Series[]> {
    const groups = new Map<string, { labels: Record<string, string>; byTime: Map<number, number> }>();
    for (const { labels, points } of await this.range(counter, start, end, stepSeconds)) {
      const key: Record<string, string> = {};
      for (const name of by) if (labels[name] !== undefined) key[name] = labels[name];
      const id = JSON.stringify(key);
      const group = groups.get(id) ?? { labels: key, byTime: new Map<number, number>() };
      groups.set(id, group);
      const steps = increments(points);
      points.forEach(([t], i) => {
        group.byTime.set(t, (group.byTime.get(t) ?? 0) + (i === 0 ? 0 : steps[i - 1]));
      });
    }
    return [...groups.values()].map(({ labels, byTime }) => ({
      labels,
      points: [...byTime.entries()].sort((a, b) => a[0] - b[0]),
    }));
  }

  /** A range query; a long window is asked in pieces (Prometheus answers 11,000 points per series at most). */
  async range(query: string, start: number, end: number, stepSeconds: number): Promise<Series[]> {
    const piece = stepSeconds * 10_000;
    const bySeries = new Map<string, Series>();
    for (let from = start; from <= end; from += piece + stepSeconds) {
      for (const series of await this.rangeOnce(query, from, Math.min(end, from + piece), stepSeconds)) {
        const id = JSON.stringify(series.labels);
        const known = bySeries.get(id);
        if (known) known.points.push(...series.points);
        else bySeries.set(id, series);
      }
    }
    return [...bySeries.values()];
  }

  private async rangeOnce(query: string, start: number, end: number, stepSeconds: number): Promise<Series[]> {
    const params = new URLSearchParams({ query, start: String(start), end: String(end), step: String(stepSeconds) });
    let response: Response;
    try {
      response = await fetch(`${this.url.replace(/\/$/, '')}/api/v1/query_range?${params}`);
    } catch (error) {
      throw new Error(`cannot reach Prometheus at ${this.url}: ${(error as Error).message}`);
    }
    const body = (await response.json().catch(() => undefined)) as
      | {
          status: string;
          error?: string;
          data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
        }
      | undefined;
    if (!response.ok || body?.status !== 'success' || !body.data) {
      throw new Error(`Prometheus refused ${query}: ${body?.error ?? response.status}`);
    }
    return body.data.result.map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => [Number(t), Number(v)] as [number, number]),
    }));
  }
}
