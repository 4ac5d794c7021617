import { ResilienceConfigResolver } from '../../config/resolve.js';
import type { CircuitState } from '../../core/circuit-breaker/types.js';
import type { ResilienceContext } from '../../core/pipeline/context.js';
import type { Downstream } from './downstream.js';
import { simulationPipeline } from './pipeline.js';
import type { Trace } from './trace-file.js';
import { drive, VirtualTime } from './virtual-time.js';

/** What one configuration did with the recorded traffic. */
export interface SimulationResult {
  calls: number;
  /** Calls that reached the dependency at least once. */
  admitted: number;
  rateLimited: number;
  breakerRejections: number;
  /** Calls the bulkhead turned away (full, or their wait in its queue ran out). */
  bulkheadRejections: number;
  opens: number;
  /** Re-openings within one open period of the breaker closing. */
  flaps: number;
  /** Attempts after the first. */
  retries: number;
  /** Attempts that reached the dependency, retries included. */
  downstreamCalls: number;
  /** Attempts sent while the recorded dependency was failing. */
  sentWhileFailing: number;
  /** Letters the app would keep: failed calls, and calls the breaker or the bulkhead turned away. */
  deadLetters: number;
  /** Calls that reached the dependency and failed for good. */
  failed: number;
  /** Time a call took beyond its first attempt's own latency (retries, waits, queues), ms. */
  addedLatencyP50: number;
  addedLatencyP99: number;
  /** The breaker's states over time: [epoch ms, state] at the start and at each change. */
  timeline: [number, CircuitState][];
  /** Settings the simulation could not model, said once each. */
  notes: string[];
}

/** One replayed call: the trace line it stands for and what its attempts met. */
interface ReplayedCall extends ResilienceContext {
  line: number;
  tries: number;
  firstLatency: number;
}

/**
 * Replays `trace` through the pipeline the app builds for `service` (rate limiter, dead letter,
 * circuit breaker, retry, bulkhead: the same stages, composed the same way) on virtual time.
 * Calls arrive when they were recorded; each attempt gets the outcome and latency of the
 * recorded call nearest its time; attempts of different calls overlap as in the recording.
 */
export async function simulate(
  trace: Trace,
  downstream: Downstream,
  config: unknown,
  service = trace.service,
): Promise<SimulationResult> {
  const settings = ResilienceConfigResolver.from(config).resolve(service);
  const time = new VirtualTime(trace.t[0]);
  const notes: string[] = [];
  const { next, breaker, bulkhead, letters } = simulationPipeline(service, settings, time, notes);
  const result: SimulationResult = {
    calls: trace.size,
    admitted: 0,
    rateLimited: 0,
    breakerRejections: 0,
    bulkheadRejections: 0,
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
  breaker.onStateChange(({ to }) => {
    const now = time.now();
    result.timeline.push([now, to]);
    if (to === 'open') {
      result.opens++;
      if (now - closedAt < openMs) result.flaps++;
    }
    if (to === 'closed') closedAt = now;
  });

  // Each attempt: the recorded call nearest its start answers, after that call's latency.
  const attempt = (context: ResilienceContext): Promise<unknown> => {
    const call = context as ReplayedCall;
    const sample = downstream.nearest(time.now());
    const latency = downstream.latencyOf(sample);
    call.tries++;
    if (call.tries === 1) call.firstLatency = latency;
    result.downstreamCalls++;
    const failure = downstream.isFailure(sample);
    if (failure) result.sentWhileFailing++;
    return new Promise((resolve, reject) => {
      time.schedule(failure ? () => reject(downstream.errorOf(sample)) : () => resolve(undefined), latency);
    });
  };

  const added: number[] = [];
  const ended = (call: ReplayedCall, error?: unknown) => {
    if (call.tries > 0) {
      result.admitted++;
      result.retries += call.tries - 1;
      if (error !== undefined) result.failed++;
      added.push(time.now() - trace.t[call.line] - call.firstLatency);
      return;
    }
    added.push(time.now() - trace.t[call.line]);
    if (call.rejectedBy === 'rate_limited') result.rateLimited++;
    else if (call.rejectedBy === 'circuit_open') result.breakerRejections++;
    else if (call.rejectedBy === 'bulkhead_rejected') result.bulkheadRejections++;
  };

  function* replay(): Generator<void, void, void> {
    let pendingReactions = false;
    for (let line = 0; line < trace.size; line++) {
      const at = trace.t[line];
      yield* time.advanceTo(at);
      const call: ReplayedCall = {
        args: [],
        operation: attempt,
        key: trace.key[line] || 'global',
        request: undefined,
        signal: undefined,
        deadline: undefined,
        criticality: undefined,
        attempts: undefined,
        rejectedBy: undefined,
        line,
        tries: 0,
        firstLatency: 0,
      };
      next(call).then(
        () => ended(call),
        (error: unknown) => ended(call, error),
      );
      // A call that reached the dependency at once has no reaction pending (every stage ran
      // synchronously and waits on the attempt's timer); one turned away or held has: those run
      // before time moves on (a drain per call would double the replay's time).
      if (call.tries === 0) pendingReactions = true;
      if (pendingReactions && (line + 1 === trace.size || trace.t[line + 1] !== at)) {
        pendingReactions = false;
        yield;
      }
    }
    while (time.nextAt() < Number.POSITIVE_INFINITY) yield* time.advanceTo(time.nextAt());
    yield;
  }
  await drive(replay());
  result.deadLetters = letters();
  if (bulkhead && result.bulkheadRejections > 0) {
    notes.push(`the bulkhead turned away ${result.bulkheadRejections} calls`);
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
