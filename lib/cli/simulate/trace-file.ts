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
  /** Lines read from the file (each sampled line is replayed as the calls it stands for). */
  lines: number;
  /** The share of calls the recording kept (1 when it kept them all). */
  sampleRate: number;
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
  const expanded = expand(mine);
  const trace: Trace = {
    service: chosen,
    size: expanded.length,
    t: new Float64Array(expanded.length),
    latency: new Float64Array(expanded.length),
    outcome: new Uint8Array(expanded.length),
    family: new Array(expanded.length),
    key: new Array(expanded.length),
    lines: mine.length,
    sampleRate: mine.length / expanded.length,
  };
  for (const [i, [t, line]] of expanded.entries()) {
    trace.t[i] = t;
    trace.latency[i] = line.latency ?? 0;
    trace.outcome[i] = OUTCOME[line.outcome];
    trace.family[i] = line.error ?? '';
    trace.key[i] = line.key ?? '';
  }
  return trace;
}

/**
 * A sampled trace's lines as the calls they stand for: a line of weight w (1 / sampleRate)
 * is w calls (a fraction kept by a seeded draw), spread evenly until the next line. A
 * limiter replayed only the sampled tenth of the traffic refused none of it where the real
 * one refused half.
 */
function expand(lines: TraceLine[]): [number, TraceLine][] {
  if (!lines.some((l) => typeof l.w === 'number' && l.w > 1)) return lines.map((l) => [l.t, l]);
  let seed = 0x9e3779b9;
  const draw = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let x = Math.imul(seed ^ (seed >>> 15), seed | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const span = lines.length > 1 ? (lines[lines.length - 1].t - lines[0].t) / (lines.length - 1) : 0;
  const out: [number, TraceLine][] = [];
  for (const [i, line] of lines.entries()) {
    const w = typeof line.w === 'number' && line.w > 1 ? line.w : 1;
    const copies = Math.floor(w) + (draw() < w - Math.floor(w) ? 1 : 0);
    const gap = (i + 1 < lines.length ? lines[i + 1].t - line.t : span) / Math.max(1, copies);
    for (let c = 0; c < copies; c++) out.push([line.t + c * gap, line]);
  }
  return out;
}
