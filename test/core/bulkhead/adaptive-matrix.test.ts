import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADAPTIVE_ALGORITHMS } from '../../../lib/core/index.js';
import { type CellFigures, formatCell, MATRIX_HEADER as HEADER, matrixCell } from '../../support/adaptive-matrix.js';

// The matrix: capacities x background error rates x algorithms, each offered twice
// its capacity for 20 s from the algorithm's default settings (deterministic, seeded).
const CAPACITIES = [5, 10, 40, 200, 1000];
const ERROR_RATES = [0, 0.01, 0.05];

/** Checks every cell, then fails once with the whole table (a failing cell is shown among the rest). */
function verdict(rows: CellFigures[], problems: string[]): void {
  const table = [HEADER, ...rows.map(formatCell)].join('\n');
  assert.deepEqual(problems, [], `${problems.join('\n')}\n${table}`);
}

describe('adaptive limits across scales and background errors (simulation on a virtual clock)', () => {
  for (const algorithm of ADAPTIVE_ALGORITHMS) {
    it(`${algorithm}: settles within ±25% of the capacity for C = 5 to 1,000 from its defaults; 1% and 5% errors cost no throughput`, async (t) => {
      const rows: CellFigures[] = [];
      const problems: string[] = [];
      for (const capacity of CAPACITIES) {
        let clean: CellFigures | undefined;
        for (const errorRate of ERROR_RATES) {
          const cell = await matrixCell(algorithm, capacity, errorRate);
          clean ??= cell;
          rows.push(cell);
          const name = `C=${capacity} errors=${errorRate}`;
          if (cell.settledAtMs < 0 || cell.settledAtMs > 5000)
            problems.push(`${name}: settled at ${cell.settledAtMs} ms`);
          if (cell.within < 0.95)
            problems.push(`${name}: ${(100 * cell.within).toFixed(0)}% of the second half in band`);
          if (cell.served < 0.95 * clean.served)
            problems.push(`${name}: served ${cell.served} < 95% of ${clean.served}`);
          if (cell.low <= 1) problems.push(`${name}: the limit fell to minLimit`);
          if (cell.p99 > 2) problems.push(`${name}: p99 ${cell.p99}x the no-load latency`);
        }
      }
      for (const line of [HEADER, ...rows.map(formatCell)]) t.diagnostic(line);
      verdict(rows, problems);
    });
  }
});
