import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { BulkheadPolicy, BulkheadRejectedError } from '../../../lib/core/index.js';
import { percentile, simulateOverload } from '../../support/overload-simulation.js';

// A downstream that serves `capacity` calls at a time and queues the rest (its latency grows
// with every call beyond capacity), offered far more calls than it can serve.
const capacity = 40;
const serviceMs = 10;
const overload = { capacity, serviceMs, arrivalsPerMs: 8, durationMs: 20_000 };

describe('adaptive bulkhead under overload (deterministic simulation, virtual clock)', () => {
  it('vegas settles within ±25% of the capacity within 2 s and keeps admitted p99 under 2x the no-load latency', async (t) => {
    const run = await simulateOverload({
      ...overload,
      bulkhead: { adaptive: { algorithm: 'vegas', initialLimit: 10, maxLimit: 1000 } },
    });
    const settledAt = run.limits.findIndex((_, t) =>
      run.limits.slice(t).every((l) => Math.abs(l - capacity) <= 0.25 * capacity),
    );
    assert.ok(
      settledAt >= 0 && settledAt <= 2000,
      `settled at ${settledAt} ms (limits ${Math.min(...run.limits)}-${Math.max(...run.limits)})`,
    );
    const p99 = percentile(
      run.latencies.filter((l) => l.at > settledAt).map((l) => l.ms),
      99,
    );
    t.diagnostic(
      `vegas: settled at ${settledAt} ms, limit ${Math.min(...run.limits.slice(settledAt))}-${Math.max(...run.limits.slice(settledAt))} (capacity ${capacity}), p99 ${p99} ms (no-load ${serviceMs} ms)`,
    );
    assert.ok(p99 <= 2 * serviceMs, `p99 ${p99} ms`);
    assert.ok(run.admitted >= 0.9 * (overload.durationMs / serviceMs) * capacity, 'the downstream stays busy');
  });

  it('aimd and gradient2 keep admitted p99 near the no-load latency; a fixed limit of 10x capacity lets it grow tenfold', async (t) => {
    const p99Of = async (bulkhead: Parameters<typeof simulateOverload>[0]['bulkhead']) => {
      const run = await simulateOverload({ ...overload, bulkhead });
      return percentile(
        run.latencies.filter((l) => l.at > 5000).map((l) => l.ms),
        99,
      );
    };
    const aimd = await p99Of({ adaptive: { algorithm: 'aimd', initialLimit: 10, maxLimit: 1000, timeout: '15ms' } });
    const gradient2 = await p99Of({ adaptive: { algorithm: 'gradient2', initialLimit: 10, maxLimit: 1000 } });
    const fixed = await p99Of({ maxConcurrent: 10 * capacity });
    t.diagnostic(
      `p99 of admitted calls: aimd ${aimd} ms, gradient2 ${gradient2} ms, fixed 10x ${fixed} ms (no-load ${serviceMs} ms)`,
    );
    assert.ok(aimd <= 2 * serviceMs, `aimd p99 ${aimd} ms`);
    assert.ok(gradient2 <= 2.5 * serviceMs, `gradient2 p99 ${gradient2} ms`);
    assert.ok(fixed >= 9 * serviceMs, `fixed 10x capacity p99 ${fixed} ms`);
  });
});

/** A server that serves `capacity` requests at a time, each for `holdMs`, and queues the rest. */
async function queueingServer(capacity: number, holdMs: number) {
  let busy = 0;
  const queue: (() => void)[] = [];
  const server = createServer((_req, res) => {
    const serve = () => {
      busy++;
      setTimeout(() => {
        busy--;
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
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** `callers` loops calling `call` for `ms`; a bulkhead rejection pauses the caller 5 ms. Latencies of successes. */
async function load(callers: number, ms: number, call: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  const stopAt = Date.now() + ms;
  const caller = async () => {
    while (Date.now() < stopAt) {
      const started = performance.now();
      try {
        await call();
        latencies.push(performance.now() - started);
      } catch (error) {
        if (!(error instanceof BulkheadRejectedError)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  return latencies;
}

describe('adaptive bulkhead in front of a real HTTP server that queues beyond its capacity', () => {
  it('vegas finds a limit near the server’s concurrency and keeps latency far under an unprotected client’s (real fetch, real clock)', async (t) => {
    // 40 at a time: Vegas keeps a queue of 3 to 6 calls (3-6 log10 of the limit), well inside ±25% of 40.
    const serverCapacity = 40;
    // 200 ms a call: 200 requests a second at capacity, little enough CPU for the client that a busy
    // machine (the rest of the suite beside it) does not become the bottleneck Vegas measures.
    const holdMs = 200;
    const server = await queueingServer(serverCapacity, holdMs);
    try {
      const get = async () => (await fetch(server.url)).text();
      const unprotected = await load(120, 2000, get);
      const bulkhead = new BulkheadPolicy('http', { adaptive: { algorithm: 'vegas', initialLimit: 5, maxLimit: 500 } });
      const limits: number[] = [];
      const sampler = setInterval(() => limits.push(bulkhead.limit), 50);
      const protectedRun = await load(120, 8000, () => bulkhead.execute(get)).finally(() => clearInterval(sampler));
      const lastSecond = limits.slice(-20);
      const within = lastSecond.filter((l) => Math.abs(l - serverCapacity) <= 0.25 * serverCapacity).length;
      const p99 = percentile(protectedRun.slice(-Math.floor(protectedRun.length / 2)), 99);
      const p99Unprotected = percentile(unprotected.slice(-Math.floor(unprotected.length / 2)), 99);
      t.diagnostic(
        `real HTTP: last second's limits ${lastSecond.join(' ')} (server concurrency ${serverCapacity}); p99 ${p99.toFixed(1)} ms with the bulkhead, ${p99Unprotected.toFixed(1)} ms without (hold ${holdMs} ms)`,
      );
      assert.ok(within >= 0.8 * lastSecond.length, `last second's limits ${lastSecond.join(' ')}`);
      assert.ok(p99 < 0.75 * p99Unprotected, `p99 ${p99.toFixed(1)} ms vs ${p99Unprotected.toFixed(1)} ms unprotected`);
    } finally {
      server.close();
    }
  });
});
