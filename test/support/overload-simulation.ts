import { type BulkheadOptions, BulkheadPolicy, BulkheadRejectedError, ManualClock } from '../../lib/core/index.js';

/**
 * A deterministic overload on a virtual clock: a downstream with `capacity` workers and a
 * FIFO queue (each call takes `serviceMs` of a worker, so latency grows with the calls
 * beyond capacity), offered `arrivalsPerMs` calls every millisecond (far more than it
 * can serve) through a real BulkheadPolicy that turns the excess away.
 */
export interface OverloadRun {
  /** The bulkhead's limit at every millisecond. */
  limits: number[];
  /** Latency of each admitted call, in milliseconds, with the time it ended. */
  latencies: { at: number; ms: number }[];
  admitted: number;
  rejected: number;
}

export async function simulateOverload(options: {
  capacity: number;
  serviceMs: number;
  arrivalsPerMs: number;
  durationMs: number;
  bulkhead: BulkheadOptions;
}): Promise<OverloadRun> {
  const { capacity, serviceMs, arrivalsPerMs, durationMs } = options;
  const clock = new ManualClock(0);
  const bulkhead = new BulkheadPolicy('downstream', { ...options.bulkhead, clock, random: seeded(7) });
  // The downstream: workers free at these times; queued calls wait for the earliest.
  const workerFreeAt = Array.from({ length: capacity }, () => 0);
  const pending: { end: number; resolve: () => void }[] = [];
  const run: OverloadRun = { limits: [], latencies: [], admitted: 0, rejected: 0 };
  const call = () => {
    const now = clock.now();
    let worker = 0;
    for (let w = 1; w < capacity; w++) if (workerFreeAt[w] < workerFreeAt[worker]) worker = w;
    const end = Math.max(now, workerFreeAt[worker]) + serviceMs;
    workerFreeAt[worker] = end;
    run.admitted++;
    return new Promise<void>((resolve) => {
      pending.push({
        end,
        resolve: () => {
          run.latencies.push({ at: end, ms: end - now });
          resolve();
        },
      });
    });
  };
  for (let t = 0; t < durationMs; t++) {
    // Calls ending now end first, so their slots are free for this millisecond's arrivals.
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i].end <= t) {
        pending[i].resolve();
        pending.splice(i, 1);
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    for (let a = 0; a < arrivalsPerMs; a++) {
      bulkhead.execute(call).catch((error: unknown) => {
        if (!(error instanceof BulkheadRejectedError)) throw error;
        run.rejected++;
      });
    }
    run.limits.push(bulkhead.limit);
    clock.advance(1);
  }
  return run;
}

/** The p-th percentile (0-100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** A small deterministic PRNG (mulberry32) for the probe jitter. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
