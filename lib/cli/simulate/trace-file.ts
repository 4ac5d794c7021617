import { readFileSync } from 'node:fs';
import type { TraceLine } from '../../core/trace/trace-recorder.js';

/** A trace's calls of one service, in start order, as columns. */
export interface Trace {
  service: string;
  size: number;
  /** Start, epoch ms. */
  t: Float64Array;
  latency: Float64Array;
  /** 0 ok, 1 error, 2 rejected. */
  outcome: Uint8Array;
  /** The error family of an error ('' otherwise). */
  family: string[];
  /** The hashed key ('' when the call had none). */
  key: string[];
}

const OUTCOME = { ok: 0, error: 1, rejected: 2 } as const;

/** Reads a trace file (one JSON line per call) for `service`; with no service, the one with most calls. */
export function readTrace(path: string, service?: string): Trace {
  const text = readFileSync(path, 'utf8');
  const lines: TraceLine[] = [];
  const counts = new Map<string, number>();
  let start = 0;
  let lineNumber = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    if (end > start) {
      let line: TraceLine;
      try {
        line = JSON.parse(text.slice(start, end));
      } catch {
        throw new Error(`${path}:${lineNumber}: not a JSON line`);
      }
      if (typeof line.t !== 'number' || typeof line.service !== 'string' || !(line.outcome in OUTCOME)) {
        throw new Error(`${path}:${lineNumber}: not a trace line (t, service and outcome are required)`);
      }
      counts.set(line.service, (counts.get(line.service) ?? 0) + 1);
      if (service === undefined || line.service === service) lines.push(line);
    }
    start = end + 1;
  }
  const chosen = service ?? [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (chosen === undefined) throw new Error(`${path}: no calls`);
  const mine = service === undefined ? lines.filter((l) => l.service === chosen) : lines;
  if (mine.length === 0) {
    throw new Error(`${path}: no calls of service "${chosen}" (it has: ${[...counts.keys()].join(', ')})`);
  }
  mine.sort((a, b) => a.t - b.t);
  const trace: Trace = {
    service: chosen,
    size: mine.length,
    t: new Float64Array(mine.length),
    latency: new Float64Array(mine.length),
    outcome: new Uint8Array(mine.length),
    family: new Array(mine.length),
    key: new Array(mine.length),
  };
  for (const [i, line] of mine.entries()) {
    trace.t[i] = line.t;
    trace.latency[i] = line.latency ?? 0;
    trace.outcome[i] = OUTCOME[line.outcome];
    trace.family[i] = line.error ?? '';
    trace.key[i] = line.key ?? '';
  }
  return trace;
}
