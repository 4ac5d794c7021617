import { ADVISE_METRICS, type AdviseMetric } from './metric-names.js';

/** One series of a range query: its labels and its [epoch s, value] points. */
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
