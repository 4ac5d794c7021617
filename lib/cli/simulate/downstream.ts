import type { Trace } from './trace-file.js';

/**
 * The dependency's health over time, as the trace saw it: every call that reached it (ok or
 * error; a call the original policies turned away says nothing about it). An attempt at time t
 * gets the outcome and latency of the recorded call nearest to t.
 */
export class Downstream {
  private readonly t: Float64Array;
  private readonly failed: Uint8Array;
  private readonly latency: Float64Array;
  private readonly family: string[];
  private readonly errors = new Map<string, Error>();

  constructor(trace: Trace) {
    const reached: number[] = [];
    for (let i = 0; i < trace.size; i++) if (trace.outcome[i] !== 2) reached.push(i);
    if (reached.length === 0) throw new Error(`no call of "${trace.service}" reached the dependency in this trace`);
    this.t = Float64Array.from(reached, (i) => trace.t[i]);
    this.failed = Uint8Array.from(reached, (i) => trace.outcome[i]);
    this.latency = Float64Array.from(reached, (i) => trace.latency[i]);
    this.family = reached.map((i) => trace.family[i]);
  }

  /** The recorded call nearest to `t` (binary search). */
  nearest(t: number): number {
    const times = this.t;
    let lo = 0;
    let hi = times.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && t - times[lo - 1] < times[lo] - t ? lo - 1 : lo;
  }

  isFailure(sample: number): boolean {
    return this.failed[sample] === 1;
  }

  latencyOf(sample: number): number {
    return this.latency[sample];
  }

  /** An error the policies classify as the recorded family would be (one per family, reused). */
  errorOf(sample: number): Error {
    const family = this.family[sample] || 'Error';
    let error = this.errors.get(family);
    if (!error) {
      error = errorLike(family);
      this.errors.set(family, error);
    }
    return error;
  }
}

/** An error that the guide's family predicates (lib/core/error-matchers.ts) place in `family`. */
function errorLike(family: string): Error {
  const error = new Error(`recorded ${family}`);
  switch (family) {
    case 'ConnectionError':
      return Object.assign(error, { code: 'ECONNREFUSED' });
    case 'TimeoutError':
      return Object.assign(error, { code: 'ETIMEDOUT' });
    case 'ServiceUnavailableError':
      return Object.assign(error, { status: 503 });
    case 'HTTPError':
      return Object.assign(error, { status: 500 });
    case 'ClientError':
      return Object.assign(error, { status: 400 });
    default:
      error.name = family;
      return error;
  }
}
