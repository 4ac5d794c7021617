import type { AdaptiveAlgorithm } from '../../lib/core/index.js';
import { percentile, type SimulationOptions, type SimulationRun, simulate } from './overload-simulation.js';

/** Service time for a capacity: 10 ms up to 100 workers, then C/10 ms (so arrivals stay <= 20/ms and the run fast). */
export const serviceMsFor = (capacity: number) => Math.max(10, capacity / 10);

export interface CellFigures {
  algorithm: AdaptiveAlgorithm;
  capacity: number;
  errorRate: number;
  /** First time (ms) from which >= 95% of the limits stay within +-25% of capacity; -1 never. */
  settledAtMs: number;
  /** Limits over the second half: median, lowest, highest. */
  median: number;
  low: number;
  high: number;
  /** Share of the second half's limits within +-25% of capacity. */
  within: number;
  /** Calls served successfully per second over the second half, as a share of capacity / serviceMs. */
  served: number;
  /** p99 latency of successful calls over the second half, as a multiple of serviceMs. */
  p99: number;
}

/**
 * The first 100 ms mark in [from, to) at which the limit is within +-25% of capacity and
 * stays there for >= 95% of the rest of the span; -1 when there is none.
 */
export function settledAt(limits: ArrayLike<number>, capacity: number, from: number, to: number): number {
  const inBand = (l: number) => Math.abs(l - capacity) <= 0.25 * capacity;
  let settled = -1;
  let inside = 0;
  for (let t = to - 1; t >= from; t--) {
    if (inBand(limits[t])) inside++;
    if ((t - from) % 100 === 0 && inBand(limits[t]) && inside >= 0.95 * (to - t)) settled = t;
  }
  return settled;
}

export function figures(
  run: SimulationRun,
  algorithm: AdaptiveAlgorithm,
  capacity: number,
  errorRate: number,
  serviceMs: number,
  fromMs = run.limits.length / 2,
): CellFigures {
  const limits = Array.from(run.limits);
  const inBand = (l: number) => Math.abs(l - capacity) <= 0.25 * capacity;
  const tail = limits.slice(fromMs).sort((a, b) => a - b);
  const settledAtMs = settledAt(limits, capacity, 0, limits.length);
  const seconds = run.servedPerSecond.slice(Math.floor(fromMs / 1000));
  const servedPerSecond = seconds.reduce((a, b) => a + b, 0) / seconds.length;
  const p99 = percentile(
    run.latencies.filter((l) => l.at >= fromMs).map((l) => l.ms),
    99,
  );
  return {
    algorithm,
    capacity,
    errorRate,
    settledAtMs,
    median: tail[Math.floor(tail.length / 2)],
    low: tail[0],
    high: tail[tail.length - 1],
    within: tail.filter(inBand).length / tail.length,
    served: servedPerSecond / ((capacity / serviceMs) * 1000),
    p99: p99 / serviceMs,
  };
}

/** One cell of the matrix: the default adaptive settings of `algorithm`, offered twice the capacity for 20 s. */
export async function matrixCell(
  algorithm: AdaptiveAlgorithm,
  capacity: number,
  errorRate: number,
  extra: Partial<SimulationOptions> = {},
): Promise<CellFigures> {
  const serviceMs = serviceMsFor(capacity);
  const run = await simulate({
    capacity,
    serviceMs,
    durationMs: 20_000,
    errorRate,
    bulkhead: { adaptive: { algorithm, maxLimit: 5000 } },
    ...extra,
  });
  return figures(run, algorithm, capacity, errorRate, serviceMs);
}

export const MATRIX_HEADER =
  '| algorithm | C | errors | limit, 2nd half: median (range) | within ±25% | settled at | served | p99 / no-load |';

export function formatCell(f: CellFigures): string {
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  return `| ${f.algorithm} | ${f.capacity} | ${pct(f.errorRate)} | ${f.median} (${f.low}-${f.high}) | ${pct(f.within)} | ${f.settledAtMs < 0 ? 'never' : `${(f.settledAtMs / 1000).toFixed(1)} s`} | ${pct(f.served)} | ${f.p99.toFixed(2)}x |`;
}
