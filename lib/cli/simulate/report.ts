import type { SimulationResult } from './replay.js';

const ROWS: [string, (r: SimulationResult) => string][] = [
  ['calls', (r) => String(r.calls)],
  ['admitted', (r) => String(r.admitted)],
  ['429s (rate limited)', (r) => String(r.rateLimited)],
  ['breaker rejections', (r) => String(r.breakerRejections)],
  ['bulkhead rejections', (r) => String(r.bulkheadRejections)],
  ['breaker opens', (r) => String(r.opens)],
  ['flaps (re-open within one open period)', (r) => String(r.flaps)],
  ['retries', (r) => String(r.retries)],
  ['extra downstream load from retries', (r) => percent(r.retries, r.downstreamCalls - r.retries)],
  ['calls sent to a failing downstream', (r) => String(r.sentWhileFailing)],
  ['failed calls', (r) => String(r.failed)],
  ['dead letters', (r) => String(r.deadLetters)],
  ['added latency p50 (ms)', (r) => r.addedLatencyP50.toFixed(1)],
  ['added latency p99 (ms)', (r) => r.addedLatencyP99.toFixed(1)],
];

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part * 100) / whole).toFixed(1)}%` : '0%';
}

/**
 * Column headings for the configuration files: their base names, or more of their paths when
 * two share a base name (two columns both called `resilience.yaml` told nothing apart).
 */
export function columnNames(files: string[]): string[] {
  const base = (file: string) => file.split(/[\\/]/).pop() ?? file;
  const names = files.map(base);
  return names.map((name, i) => {
    if (names.filter((n) => n === name).length === 1) return name;
    const same = files.filter((f) => f === files[i]).length > 1;
    return same ? `${files[i]} #${files.slice(0, i + 1).filter((f) => f === files[i]).length}` : files[i];
  });
}

/** The results side by side, one column per configuration; `sampling` says what one trace line stood for. */
export function formatComparison(
  service: string,
  names: string[],
  results: SimulationResult[],
  sampling?: { lines: number; calls: number },
): string {
  const header = ['', ...names];
  const rows = ROWS.map(([label, value]) => [label, ...results.map(value)]);
  const widths = header.map((_, c) => Math.max(...[header, ...rows].map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const notes = results.flatMap((r, i) => r.notes.map((note) => `note (${names[i]}): ${note}`));
  const sampled =
    sampling && sampling.calls > sampling.lines
      ? [
          `the trace was sampled (1 call in ${(sampling.calls / sampling.lines).toFixed(1)} recorded): ${sampling.lines} lines replayed as ${sampling.calls} calls, each spread until the next line`,
        ]
      : [];
  return [`service ${service}`, ...sampled, line(header), ...rows.map(line), ...notes].join('\n');
}
