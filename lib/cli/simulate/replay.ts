import { ResilienceConfigResolver } from '../../config/resolve.js';
import { CircuitBreakerPolicy } from '../../core/circuit-breaker/circuit-breaker.js';
import type { CircuitState } from '../../core/circuit-breaker/types.js';
import { ManualClock } from '../../core/clock.js';
import { MemoryRateLimitStore } from '../../core/rate-limiter/memory-store.js';
import { RateLimiter } from '../../core/rate-limiter/rate-limiter.js';
import { RetryPolicy } from '../../core/retry/retry-policy.js';
import type { Downstream } from './downstream.js';
import { EventHeap } from './event-heap.js';
import type { Trace } from './trace-file.js';

/** What one configuration did with the recorded traffic. */
export interface SimulationResult {
  calls: number;
  admitted: number;
  rateLimited: number;
  breakerRejections: number;
  opens: number;
  /** Re-openings within one open period of the breaker closing. */
  flaps: number;
  /** Attempts after the first. */
  retries: number;
  /** Attempts that reached the dependency, retries included. */
  downstreamCalls: number;
  /** Attempts sent while the recorded dependency was failing. */
  sentWhileFailing: number;
  deadLetters: number;
  failed: number;
  /** Time a call took beyond its first attempt's own latency (retries and their waits), ms. */
  addedLatencyP50: number;
  addedLatencyP99: number;
  /** The breaker's states over time: [epoch ms, state] at the start and at each change. */
  timeline: [number, CircuitState][];
  /** Settings the simulation could not model, said once each. */
  notes: string[];
}

/** A small seeded generator, so a simulation with jitter gives the same figures every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Replays `trace` through the real core policies a configuration gives `service` (rate
 * limiter, circuit breaker, retry, dead letter), on a virtual clock. Calls arrive when they
 * were recorded; each attempt gets the outcome and latency of the recorded call nearest its
 * time; attempts of different calls overlap as in the recording.
 */
export function simulate(
  trace: Trace,
  downstream: Downstream,
  config: unknown,
  service = trace.service,
): SimulationResult {
  const settings = ResilienceConfigResolver.from(config).resolve(service);
  const clock = new ManualClock(trace.t[0]);
  const notes: string[] = [];
  const { scope: _scope, quorum: _quorum, ...circuitOptions } = settings.circuit;
  const breaker = settings.circuit.enabled
    ? new CircuitBreakerPolicy(service, { ...circuitOptions, clock })
    : undefined;
  const rate = settings.rate;
  if (rate.enabled && rate.mode === 'wait') notes.push("rate mode 'wait' is simulated as 'reject'");
  const limiter = rate.enabled
    ? new RateLimiter({
        name: service,
        rate: rate.rate,
        per: rate.per,
        burst: rate.burst,
        strategy: rate.strategy,
        clock,
        store: new MemoryRateLimitStore({ clock }),
      })
    : undefined;
  const { enabled: retryOn, ...retryOptions } = settings.retry;
  const retry = new RetryPolicy({
    ...retryOptions,
    maxAttempts: retryOn ? settings.retry.maxAttempts : 1,
    clock,
    random: seeded(1),
  });
  if (settings.bulkhead.enabled) notes.push('the bulkhead is not simulated');
  const dlqOn = settings.dlq.enabled;

  const result: SimulationResult = {
    calls: trace.size,
    admitted: 0,
    rateLimited: 0,
    breakerRejections: 0,
    opens: 0,
    flaps: 0,
    retries: 0,
    downstreamCalls: 0,
    sentWhileFailing: 0,
    deadLetters: 0,
    failed: 0,
    addedLatencyP50: 0,
    addedLatencyP99: 0,
    timeline: [[trace.t[0], 'closed']],
    notes,
  };
  const openMs = (settings.circuit.timeout ?? 60) * 1000;
  let closedAt = Number.NEGATIVE_INFINITY;
  breaker?.onStateChange(({ to }) => {
    const now = clock.now();
    result.timeline.push([now, to]);
    if (to === 'open') {
      result.opens++;
      if (now - closedAt < openMs) result.flaps++;
    }
    if (to === 'closed') closedAt = now;
  });

  // Per admitted call: its permission, attempt, waits, and the sample its current attempt got.
  const n = trace.size;
  const permission = new Float64Array(n);
  const attempt = new Int32Array(n);
  const waited = new Float64Array(n);
  const previousDelay = new Float64Array(n);
  const sample = new Int32Array(n);
  const firstLatency = new Float64Array(n);
  const added: number[] = [];
  const heap = new EventHeap();

  const startAttempt = (call: number, at: number) => {
    const s = downstream.nearest(at);
    sample[call] = s;
    attempt[call]++;
    result.downstreamCalls++;
    if (downstream.isFailure(s)) result.sentWhileFailing++;
    if (attempt[call] === 1) firstLatency[call] = downstream.latencyOf(s);
    heap.push(at + downstream.latencyOf(s), call);
  };

  const endAttempt = (call: number, at: number) => {
    clock.set(at);
    const s = sample[call];
    const error = downstream.isFailure(s) ? downstream.errorOf(s) : undefined;
    if (error !== undefined) {
      const delay = retry.planRetry(attempt[call], error, waited[call], previousDelay[call], at - trace.t[call]);
      if (delay !== undefined) {
        waited[call] += delay;
        previousDelay[call] = delay;
        result.retries++;
        startAttempt(call, at + delay);
        return;
      }
    } else {
      retry.budget?.onSuccess();
    }
    breaker?.onCallEnded(permission[call], error, trace.t[call]);
    if (error !== undefined) {
      result.failed++;
      if (dlqOn) result.deadLetters++;
    }
    added.push(at - trace.t[call] - firstLatency[call]);
  };

  for (let i = 0; i < n; i++) {
    const t = trace.t[i];
    while (heap.peekTime() <= t) {
      const at = heap.peekTime();
      endAttempt(heap.pop(), at);
    }
    clock.set(t);
    if (limiter) {
      const decision = limiter.tryDecideSync(trace.key[i] || 'global');
      if (decision && !decision.allowed) {
        result.rateLimited++;
        added.push(0);
        continue;
      }
    }
    if (breaker) {
      const granted = breaker.tryAcquirePermission();
      if (granted === undefined) {
        result.breakerRejections++;
        added.push(0);
        continue;
      }
      permission[i] = granted;
    }
    result.admitted++;
    startAttempt(i, t);
  }
  while (heap.size > 0) {
    const at = heap.peekTime();
    endAttempt(heap.pop(), at);
  }
  const sorted = Float64Array.from(added).sort();
  result.addedLatencyP50 = percentile(sorted, 0.5);
  result.addedLatencyP99 = percentile(sorted, 0.99);
  return result;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] * 1000) / 1000;
}
