import { ADAPTIVE_ALGORITHMS } from '../lib/core/index.js';
import { formatCell, MATRIX_HEADER, matrixCell } from '../test/support/adaptive-matrix.js';
import { capacity, holdMs, protectedRun } from '../test/support/queueing-server.js';

/**
 * The adaptive limits' figures for docs/bulkhead.md: the simulation matrix (deterministic,
 * the same as test/core/bulkhead/adaptive-matrix.test.ts) and real HTTP runs (a server with
 * 40 workers of 200 ms that queues the rest, 80 real fetch callers, 10 s a run): the last
 * 3 s of each run, `runs` runs per cell.
 */
export async function benchAdaptive(runs = 2): Promise<string> {
  const lines = [
    '### Simulation (virtual clock, 20 s a cell, offered 2x capacity)',
    '',
    MATRIX_HEADER,
    '|---|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const algorithm of ADAPTIVE_ALGORITHMS) {
    for (const c of [5, 10, 40, 200, 1000]) {
      for (const errorRate of [0, 0.01, 0.05]) lines.push(formatCell(await matrixCell(algorithm, c, errorRate)));
    }
  }
  lines.push(
    '',
    `### Real HTTP (capacity ${capacity}, ${holdMs} ms a request, 80 fetch callers, last 3 s of 10 s runs, ${runs} runs a row)`,
    '',
    '| algorithm | fast 500s | limit (runs) | within ±25% | served/s | p99 |',
    '|---|---:|---|---:|---:|---:|',
  );
  for (const algorithm of ADAPTIVE_ALGORITHMS) {
    for (const errorRate of [0, 0.05]) {
      const results: Awaited<ReturnType<typeof protectedRun>>[] = [];
      for (let i = 0; i < runs; i++) results.push(await protectedRun(algorithm, errorRate, 10_000));
      const join = (f: (r: (typeof results)[number]) => string) => results.map(f).join(', ');
      lines.push(
        `| ${algorithm} | ${100 * errorRate}% | ${join((r) => `${Math.min(...r.limits)}-${Math.max(...r.limits)}`)} | ${join((r) => `${(100 * r.within).toFixed(0)}%`)} | ${join((r) => r.servedPerSecond.toFixed(0))} | ${join((r) => `${r.p99.toFixed(0)} ms`)} |`,
      );
    }
  }
  return lines.join('\n');
}
