import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADAPTIVE_ALGORITHMS } from '../../../lib/core/index.js';
import {
  type CellFigures,
  figures,
  formatCell,
  MATRIX_HEADER as HEADER,
  matrixCell,
  serviceMsFor,
  settledAt,
} from '../../support/adaptive-matrix.js';
import { simulate } from '../../support/overload-simulation.js';

const CAPACITIES = [5, 10, 40, 200, 1000];

describe('adaptive limits against overload answers, a latency step and real overload (simulation on a virtual clock)', () => {
  it('a dependency that answers 503 fast when over its own capacity: every algorithm settles on that capacity', async (t) => {
    const rows: CellFigures[] = [];
    const problems: string[] = [];
    for (const algorithm of ADAPTIVE_ALGORITHMS) {
      for (const capacity of CAPACITIES) {
        const cell = await matrixCell(algorithm, capacity, 0, { model: 'shedding' });
        rows.push(cell);
        if (cell.settledAtMs < 0 || cell.settledAtMs > 5000)
          problems.push(`${algorithm} C=${capacity}: settled at ${cell.settledAtMs}`);
        if (cell.within < 0.95) problems.push(`${algorithm} C=${capacity}: ${cell.within} in band`);
        if (cell.served < 0.9) problems.push(`${algorithm} C=${capacity}: served ${cell.served} of capacity`);
      }
    }
    for (const line of [HEADER, ...rows.map(formatCell)]) t.diagnostic(line);
    assert.deepEqual(problems, [], [...problems, HEADER, ...rows.map(formatCell)].join('\n'));
  });

  it('a latency step (3x slower for good at 10 s, back at 20 s): the no-load latency is learned again and the limit returns to the capacity within 5 s', async (t) => {
    const lines: string[] = [];
    const problems: string[] = [];
    for (const algorithm of ADAPTIVE_ALGORITHMS) {
      for (const capacity of CAPACITIES) {
        const run = await simulate({
          capacity,
          serviceMs: serviceMsFor(capacity),
          durationMs: 30_000,
          latencyFactor: (at) => (at >= 10_000 && at < 20_000 ? 3 : 1),
          bulkhead: { adaptive: { algorithm, maxLimit: 5000 } },
        });
        const phases = [0, 10_000, 20_000].map((from) => settledAt(run.limits, capacity, from, from + 10_000) - from);
        lines.push(
          `${algorithm} C=${capacity}: settled ${phases.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} after start, slow-down, recovery`,
        );
        phases.forEach((ms, phase) => {
          if (ms < 0 || ms > 5000) problems.push(`${algorithm} C=${capacity} phase ${phase}: settled after ${ms} ms`);
        });
      }
    }
    for (const line of lines) t.diagnostic(line);
    assert.deepEqual(problems, [], lines.join('\n'));
  });

  it('real overload: admitted p99 stays under 2x the no-load latency, where a fixed limit of 10x capacity lets it grow tenfold', async (t) => {
    const capacity = 40;
    const serviceMs = 10;
    const p99 = async (bulkhead: Parameters<typeof simulate>[0]['bulkhead']) => {
      const run = await simulate({ capacity, serviceMs, durationMs: 20_000, bulkhead, jitter: 0 });
      return figures(run, 'vegas', capacity, 0, serviceMs).p99;
    };
    const fixed = await p99({ maxConcurrent: 10 * capacity });
    const adaptive = await Promise.all(
      ADAPTIVE_ALGORITHMS.map((algorithm) => p99({ adaptive: { algorithm, maxLimit: 1000 } })),
    );
    t.diagnostic(
      `p99 / no-load: ${ADAPTIVE_ALGORITHMS.map((a, i) => `${a} ${adaptive[i]}x`).join(', ')}, fixed 10x capacity ${fixed}x`,
    );
    for (const value of adaptive) assert.ok(value <= 2, `${value}x`);
    assert.ok(fixed >= 9, `fixed ${fixed}x`);
  });
});
