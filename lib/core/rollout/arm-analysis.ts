import { LatencySketch } from '../hedge/latency-sketch.js';

/** What the rollout arm may do worse than the stable one before it is judged worse. */
export interface RolloutAnalysisOptions {
  /** Calls each arm must have served in a step before the step is judged. Default 200. */
  minCalls?: number;
  /** The rollout arm's failure rate may exceed the stable arm's by this much (0.01: one point). Default 0.01. */
  maxFailureRateIncrease?: number;
  /** The same for rejections (breaker open, bulkhead full, rate limited). Default 0.01. */
  maxRejectionRateIncrease?: number;
  /** The rollout arm's p99 latency may exceed the stable arm's by this share (0.5: 50% slower). Default 0.5. */
  maxP99Increase?: number;
}

export const DEFAULT_ROLLOUT_ANALYSIS: Required<RolloutAnalysisOptions> = {
  minCalls: 200,
  maxFailureRateIncrease: 0.01,
  maxRejectionRateIncrease: 0.01,
  maxP99Increase: 0.5,
};

/** How a call of an arm ended: served, failed (the dependency or the code), or turned away by a pattern. */
export type ArmOutcome = 'success' | 'failure' | 'rejected';

/** One arm's calls in the current step: counts and a bounded latency sketch (p99). */
export class ArmWindow {
  calls = 0;
  failures = 0;
  rejections = 0;
  // A p99 of fewer than 200 answers is little more than their slowest: not judged before.
  private latency = new LatencySketch(0.99, 1024, 200);

  record(outcome: ArmOutcome, ms: number): void {
    this.calls++;
    if (outcome === 'failure') this.failures++;
    else if (outcome === 'rejected') this.rejections++;
    // Latency of answered calls: a rejection's few microseconds would flatter an arm that rejects.
    if (outcome !== 'rejected') this.latency.record(ms);
  }

  get p99(): number | undefined {
    return this.latency.value();
  }

  reset(): void {
    this.calls = 0;
    this.failures = 0;
    this.rejections = 0;
    this.latency = new LatencySketch(0.99, 1024, 200);
  }
}

export interface ArmVerdict {
  /** 'wait': too few calls yet; 'pass': not worse; 'fail': worse by a threshold (reasons say which). */
  verdict: 'wait' | 'pass' | 'fail';
  reasons: string[];
}

const pct = (value: number) => `${(value * 100).toFixed(2)}%`;
/** A p99 this much slower (ms) at least, whatever the share, before it counts as worse. */
const P99_FLOOR_MS = 5;

/** What one arm (or one simulated configuration) did: counts, and its p99 in ms when known. */
export interface ArmFigures {
  calls: number;
  failures: number;
  rejections: number;
  p99?: number;
}

/**
 * The guide's "A/B test changes", in-process: both arms on the same traffic over the same
 * step; the rollout arm fails when its failure or rejection rate is worse than the stable
 * arm's by more than the allowed increase, or its p99 slower by more than the allowed share.
 */
export function analyseArms(stable: ArmWindow, rollout: ArmWindow, options: RolloutAnalysisOptions = {}): ArmVerdict {
  const minCalls = options.minCalls ?? DEFAULT_ROLLOUT_ANALYSIS.minCalls;
  if (stable.calls < minCalls || rollout.calls < minCalls) {
    return {
      verdict: 'wait',
      reasons: [
        `${rollout.calls} calls on the rollout arm and ${stable.calls} on the stable one; judged from ${minCalls} each`,
      ],
    };
  }
  return compareArms(figuresOf(stable), figuresOf(rollout), options);
}

function figuresOf(window: ArmWindow): ArmFigures {
  return { calls: window.calls, failures: window.failures, rejections: window.rejections, p99: window.p99 };
}

/**
 * The comparison itself, on figures (the live arms', or two configurations replayed by
 * `nest-resilience simulate --gate`): 'fail' with the reasons when `candidate` is worse than
 * `current` by more than a threshold, else 'pass'. `names` label the two in the reasons.
 */
export function compareArms(
  current: ArmFigures,
  candidate: ArmFigures,
  options: RolloutAnalysisOptions = {},
  names: [current: string, candidate: string] = ['the stable one', 'the rollout arm'],
): ArmVerdict {
  const { maxFailureRateIncrease, maxRejectionRateIncrease, maxP99Increase } = {
    ...DEFAULT_ROLLOUT_ANALYSIS,
    ...options,
  };
  const rate = (part: number, whole: number) => (whole > 0 ? part / whole : 0);
  const [currentName, candidateName] = names;
  const reasons: string[] = [];
  let worse = false;
  for (const [what, s, r, allowed] of [
    [
      'failure rate',
      rate(current.failures, current.calls),
      rate(candidate.failures, candidate.calls),
      maxFailureRateIncrease,
    ],
    [
      'rejection rate',
      rate(current.rejections, current.calls),
      rate(candidate.rejections, candidate.calls),
      maxRejectionRateIncrease,
    ],
  ] as const) {
    const isWorse = r - s > allowed;
    worse ||= isWorse;
    reasons.push(
      `${what} ${pct(r)} on ${candidateName}, ${pct(s)} on ${currentName}${isWorse ? ` (more than ${pct(allowed)} worse)` : ''}`,
    );
  }
  const [s99, r99] = [current.p99, candidate.p99];
  if (s99 !== undefined && r99 !== undefined) {
    // And 5 ms slower at least: below that a p99 moves with the host's own scheduling, not the settings.
    const isWorse = r99 > s99 * (1 + maxP99Increase) && r99 - s99 > P99_FLOOR_MS;
    worse ||= isWorse;
    reasons.push(
      `p99 ${r99.toFixed(1)} ms on ${candidateName}, ${s99.toFixed(1)} ms on ${currentName}${isWorse ? ` (more than ${pct(maxP99Increase)} slower)` : ''}`,
    );
  }
  return { verdict: worse ? 'fail' : 'pass', reasons };
}
