import {
  type ArmOutcome,
  type ArmVerdict,
  ArmWindow,
  analyseArms,
  type RolloutAnalysisOptions,
} from './arm-analysis.js';

export interface ProgressiveRolloutOptions {
  /** Shares of traffic (0..100) the rollout arm gets, step after step; the last is usually 100. */
  steps: readonly number[];
  analysis?: RolloutAnalysisOptions;
  /** A failed step: 'rollback' (default) sends every call to the stable arm, 'hold' keeps the share and stops. */
  onFailure?: 'rollback' | 'hold';
}

/** Where a progressive rollout is: its step and share, and whether it still moves. */
export interface RolloutProgressState {
  step: number;
  percent: number;
  status: 'running' | 'promoted' | 'rolled_back' | 'held';
  /** Why it is where it is: the last judgment's reasons. */
  reasons: string[];
}

/** What one judgment decided. */
export type RolloutDecision = 'waited' | 'advanced' | 'promoted' | 'rolled_back' | 'held';

/**
 * A progressive rollout's state machine: each arm's calls are recorded; at every interval the
 * step is judged (analyseArms): too few calls waits, a pass moves to the next step (its counts
 * start afresh), a pass into 100% (or of the last step) promotes, a failure rolls back to 0% or holds.
 * Framework-free: the caller records calls, calls judge() on its clock, and applies `percent`.
 */
export class ProgressiveRollout {
  private readonly arms = { stable: new ArmWindow(), rollout: new ArmWindow() };
  private current: RolloutProgressState;

  constructor(private readonly options: ProgressiveRolloutOptions) {
    const { steps } = options;
    if (steps.length === 0) throw new RangeError('steps must list at least one share');
    steps.forEach((share, i) => {
      if (!(share >= 0 && share <= 100))
        throw new RangeError(`steps[${i}] must be a share from 0 to 100, got ${share}`);
      if (i > 0 && share <= (steps[i - 1] as number))
        throw new RangeError(`steps must rise: steps[${i}] (${share}) is not above steps[${i - 1}] (${steps[i - 1]})`);
    });
    this.current = { step: 0, percent: steps[0] as number, status: 'running', reasons: [] };
  }

  get state(): RolloutProgressState {
    return this.current;
  }

  /** One call of an arm ended (while running; afterwards nothing is judged). */
  record(arm: 'stable' | 'rollout', outcome: ArmOutcome, ms: number): void {
    if (this.current.status === 'running') this.arms[arm].record(outcome, ms);
  }

  /** The arms' calls in the current step (a fleet adds them up across replicas). */
  get windows(): { readonly stable: ArmWindow; readonly rollout: ArmWindow } {
    return this.arms;
  }

  /** Judges the step now (every `interval`) on this process's calls; returns what it decided. */
  judge(): RolloutDecision {
    if (this.current.status !== 'running') return this.current.status === 'promoted' ? 'promoted' : 'held';
    const { verdict, reasons } = analyseArms(this.arms.stable, this.arms.rollout, this.options.analysis);
    return this.apply(verdict, reasons);
  }

  /** Applies a verdict on the current step (this process's, or the fleet's judge's). */
  apply(verdict: ArmVerdict['verdict'], reasons: string[]): RolloutDecision {
    if (this.current.status !== 'running') return this.current.status === 'promoted' ? 'promoted' : 'held';
    if (verdict === 'wait') {
      this.current = { ...this.current, reasons };
      return 'waited';
    }
    if (verdict === 'fail') {
      const rollback = (this.options.onFailure ?? 'rollback') === 'rollback';
      this.current = {
        ...this.current,
        percent: rollback ? 0 : this.current.percent,
        status: rollback ? 'rolled_back' : 'held',
        reasons,
      };
      return rollback ? 'rolled_back' : 'held';
    }
    const next = this.current.step + 1;
    this.resetWindows();
    // All the traffic on the rollout arm leaves nothing to compare it with: reaching 100% promotes.
    if (next >= this.options.steps.length || this.options.steps[next] === 100) {
      const percent = next >= this.options.steps.length ? this.current.percent : 100;
      this.current = { step: Math.min(next, this.options.steps.length - 1), percent, status: 'promoted', reasons };
      return 'promoted';
    }
    this.current = { step: next, percent: this.options.steps[next] as number, status: 'running', reasons };
    return 'advanced';
  }

  /** Takes a state decided elsewhere (the fleet's); a new step's counts start afresh. */
  adopt(state: RolloutProgressState): void {
    if (state.step !== this.current.step || state.status !== this.current.status) this.resetWindows();
    this.current = state;
  }

  private resetWindows(): void {
    this.arms.stable.reset();
    this.arms.rollout.reset();
  }
}
