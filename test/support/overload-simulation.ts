import { type BulkheadOptions, BulkheadPolicy, BulkheadRejectedError, ManualClock } from '../../lib/core/index.js';

/**
 * A deterministic dependency on a virtual clock, called through a real BulkheadPolicy:
 * - 'queueing': `capacity` workers and a FIFO queue; each call takes `serviceMs` (x the
 *   latency factor of the moment, +-`jitter`) of a worker, so latency grows with every call
 *   beyond capacity;
 * - 'shedding': `capacity` workers and no queue; a call that finds them all busy is
 *   answered 503 within 1 ms (a dependency that protects itself).
 * A share `errorRate` of calls fail fast (500 within 1 ms, no worker used): background
 * errors of a healthy dependency. Calls arrive at `offered` x capacity (open loop).
 */
export interface SimulationOptions {
  capacity: number;
  serviceMs: number;
  durationMs: number;
  bulkhead: BulkheadOptions;
  model?: 'queueing' | 'shedding';
  /** Arrivals as a multiple of what the dependency can serve. Default 2. */
  offered?: number;
  /** Share of fast 500s, 0 to 1. Default 0. */
  errorRate?: number;
  /** Spread of service times, +-share of serviceMs (uniform). Default 0.1. */
  jitter?: number;
  /** Multiplies service times from a moment on (a latency step). */
  latencyFactor?: (atMs: number) => number;
  seed?: number;
}

export interface SimulationRun {
  /** The bulkhead's limit every millisecond. */
  limits: Int32Array;
  /** Latency of each successful call, with the time it ended. */
  latencies: { at: number; ms: number }[];
  /** Calls the dependency served successfully, per second (when they ended). */
  servedPerSecond: number[];
  admitted: number;
  rejected: number;
  /** Calls the dependency answered 503 (shedding model). */
  shed: number;
}

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): number {
    return this.items[0];
  }
  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent] <= value) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = value;
  }
  pop(): number {
    const items = this.items;
    const top = items[0];
    const last = items.pop() as number;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right] < items[left] ? right : left;
        if (items[child] >= last) break;
        items[i] = items[child];
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

/** An error as an HTTP client would throw it for a status. */
export function httpError(status: number): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status });
}

export async function simulate(options: SimulationOptions): Promise<SimulationRun> {
  const { capacity, serviceMs, durationMs } = options;
  const model = options.model ?? 'queueing';
  const offeredPerMs = ((options.offered ?? 2) * capacity) / serviceMs;
  const errorRate = options.errorRate ?? 0;
  const jitter = options.jitter ?? 0.1;
  const latencyFactor = options.latencyFactor ?? (() => 1);
  const random = seeded(options.seed ?? 7);
  const clock = new ManualClock(0);
  const bulkhead = new BulkheadPolicy('downstream', { ...options.bulkhead, clock, random: seeded(11) });
  const horizon = durationMs + 100 * serviceMs + 10;
  const endings: ((() => void)[] | undefined)[] = new Array(horizon);
  const workers = new MinHeap();
  if (model === 'queueing') for (let w = 0; w < capacity; w++) workers.push(0);
  const run: SimulationRun = {
    limits: new Int32Array(durationMs),
    latencies: [],
    servedPerSecond: new Array(Math.ceil(durationMs / 1000)).fill(0),
    admitted: 0,
    rejected: 0,
    shed: 0,
  };
  const at = (end: number, settle: () => void) => {
    const slot = Math.min(end, horizon - 1);
    const bucket = endings[slot];
    if (bucket) bucket.push(settle);
    else endings[slot] = [settle];
  };
  const call = () => {
    const now = clock.now();
    run.admitted++;
    return new Promise<void>((resolve, reject) => {
      const served = (end: number) => {
        const second = Math.floor(end / 1000);
        if (second < run.servedPerSecond.length) run.servedPerSecond[second]++;
      };
      if (random() < errorRate) {
        at(now + 1, () => reject(httpError(500)));
        return;
      }
      const service = Math.max(1, Math.round(serviceMs * latencyFactor(now) * (1 + jitter * (2 * random() - 1))));
      let end: number;
      if (model === 'queueing') {
        end = Math.max(now, workers.pop()) + service;
        workers.push(end);
      } else {
        while (workers.size > 0 && workers.peek() <= now) workers.pop();
        if (workers.size >= capacity) {
          run.shed++;
          at(now + 1, () => reject(httpError(503)));
          return;
        }
        end = now + service;
        workers.push(end);
      }
      at(end, () => {
        served(end);
        run.latencies.push({ at: end, ms: end - now });
        resolve();
      });
    });
  };
  const onRejected = (error: unknown) => {
    if (error instanceof BulkheadRejectedError) run.rejected++;
    else if (!(error instanceof Error && /^HTTP (500|503)$/.test(error.message))) throw error;
  };
  let owed = 0;
  for (let t = 0; t < durationMs; t++) {
    const due = endings[t];
    if (due) {
      endings[t] = undefined;
      for (const settle of due) settle();
    }
    await new Promise((resolve) => setImmediate(resolve));
    owed += offeredPerMs;
    for (; owed >= 1; owed--) bulkhead.execute(call).catch(onRejected);
    run.limits[t] = bulkhead.limit;
    clock.advance(1);
  }
  return run;
}

/** The p-th percentile (0-100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** A small deterministic PRNG (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
