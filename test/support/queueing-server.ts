import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AdaptiveAlgorithm, BulkheadPolicy, BulkheadRejectedError } from '../../lib/core/index.js';
import { percentile } from './overload-simulation.js';

/**
 * A server with `capacity` workers, each request holding one for `holdMs`; the rest queue.
 * A share `errorRate` of requests are answered 500 at once, without a worker (background
 * errors of a healthy dependency).
 */
export async function queueingServer(capacity: number, holdMs: number, errorRate: number) {
  let busy = 0;
  let served = 0;
  const queue: (() => void)[] = [];
  const server = createServer((_req, res) => {
    if (Math.random() < errorRate) {
      res.statusCode = 500;
      res.end('background error');
      return;
    }
    const serve = () => {
      busy++;
      setTimeout(() => {
        busy--;
        served++;
        res.end('ok');
        queue.shift()?.();
      }, holdMs);
    };
    if (busy < capacity) serve();
    else queue.push(serve);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    get served() {
      return served;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A real fetch that fails on a non-2xx answer with the status, as HTTP clients do. */
export async function get(url: string): Promise<string> {
  const response = await fetch(url);
  const body = await response.text();
  if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status });
  return body;
}

/** `callers` loops calling `call` for `ms`; a bulkhead rejection pauses the caller 5 ms. Latencies of successes. */
export async function load(callers: number, ms: number, call: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  const stopAt = Date.now() + ms;
  const caller = async () => {
    while (Date.now() < stopAt) {
      const started = performance.now();
      try {
        await call();
        latencies.push(performance.now() - started);
      } catch (error) {
        if (error instanceof BulkheadRejectedError) await new Promise((resolve) => setTimeout(resolve, 5));
        else if ((error as { status?: number }).status !== 500) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  return latencies;
}

export const capacity = 40;
// 200 ms a request: 200 requests a second at capacity, little enough CPU for the client that a
// busy machine (the rest of the suite beside it) does not become the bottleneck the limit measures.
export const holdMs = 200;

/** One run: the bulkhead's limit every 50 ms, the server's served count per second, p99 of successes. */
export async function protectedRun(algorithm: AdaptiveAlgorithm, errorRate: number, ms: number) {
  const server = await queueingServer(capacity, holdMs, errorRate);
  try {
    const bulkhead = new BulkheadPolicy('http', { adaptive: { algorithm, maxLimit: 500 } });
    const limits: number[] = [];
    const sampler = setInterval(() => limits.push(bulkhead.limit), 50);
    let servedBefore = 0;
    const lastSeconds = setTimeout(() => {
      servedBefore = server.served;
    }, ms - 3000);
    const latencies = await load(2 * capacity, ms, () => bulkhead.execute(() => get(server.url))).finally(() => {
      clearInterval(sampler);
      clearTimeout(lastSeconds);
    });
    // The last 3 s: the start (a measurement at 3 calls at a time, slow start) takes 3-5 s at 200 ms a call.
    const secondHalf = limits.slice(-60);
    return {
      limits: secondHalf,
      within: secondHalf.filter((l) => Math.abs(l - capacity) <= 0.25 * capacity).length / secondHalf.length,
      servedPerSecond: (server.served - servedBefore) / 3,
      p99: percentile(latencies.slice(-Math.floor(latencies.length / 3)), 99),
    };
  } finally {
    server.close();
  }
}
