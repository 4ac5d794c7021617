import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { compareArms, DEFAULT_ROLLOUT_ANALYSIS, type RolloutAnalysisOptions } from '../../core/rollout/arm-analysis.js';
import type {
  ProgressiveRollout,
  RolloutDecision,
  RolloutProgressState,
} from '../../core/rollout/progressive-rollout.js';
import { RedisRolloutStore, type SharedArmCounts, type SharedRolloutState } from '../../redis/rollout-store.js';

/** Counts of one arm already added to the fleet's step. */
interface Flushed {
  calls: number;
  failures: number;
  rejections: number;
}

const NONE = (): Flushed => ({ calls: 0, failures: 0, rejections: 0 });

/**
 * One progressive rollout shared by a fleet: every replica adds its arms' calls to the step's
 * counts in Redis and serves the fleet's share; once a step has run its interval, the one replica
 * that takes the step's lock judges it on the fleet's counts (the p99 is the slowest replica's)
 * and moves the shared state, which the others adopt at their next sync. So every replica serves
 * the same share, and a step is judged once, on all the traffic.
 */
export class FleetRollout {
  private readonly store: RedisRolloutStore;
  private flushed = { stable: NONE(), rollout: NONE(), step: -1 };
  private started = false;

  constructor(
    redis: Redis | Cluster,
    keyPrefix: string | undefined,
    service: string,
    signature: string,
    private readonly rollout: ProgressiveRollout,
    private readonly replica: string,
    private readonly intervalMs: number,
    private readonly analysis: RolloutAnalysisOptions | undefined,
  ) {
    const id = createHash('sha256').update(signature).digest('hex').slice(0, 12);
    this.store = new RedisRolloutStore(redis, `${service}:${id}`, keyPrefix);
  }

  /**
   * One sync: add this replica's new calls, adopt the fleet's state, and judge the step if it is
   * due and this replica holds its lock. Answers the decision when this replica judged.
   */
  async sync(): Promise<RolloutDecision | undefined> {
    const store = this.store;
    if (!this.started) {
      const { step, percent, status, reasons } = this.rollout.state;
      this.rollout.adopt(stripSince(await store.start({ step, percent, status, reasons, since: Date.now() })));
      this.started = true;
    }
    await this.flush();
    const shared = await store.state();
    if (!shared) return undefined;
    this.adopt(stripSince(shared));
    if (shared.status !== 'running' || Date.now() - shared.since < this.intervalMs) return undefined;
    if (!(await store.lock(shared.step, this.replica, this.intervalMs))) return undefined;
    const counts = await store.counts(shared.step);
    const { verdict, reasons } = judge(counts.stable, counts.rollout, this.analysis);
    const decision = this.rollout.apply(verdict, reasons);
    if (decision === 'waited') return decision;
    const next = this.rollout.state;
    if (!(await store.advance(shared.step, { ...next, since: Date.now() }))) {
      const now = await store.state();
      if (now) this.adopt(stripSince(now));
      return undefined;
    }
    return decision;
  }

  private adopt(state: RolloutProgressState): void {
    if (state.step !== this.flushed.step) this.flushed = { stable: NONE(), rollout: NONE(), step: state.step };
    this.rollout.adopt(state);
  }

  /** Adds what this replica counted since its last flush to the current step. */
  private async flush(): Promise<void> {
    const { step } = this.rollout.state;
    if (step !== this.flushed.step) this.flushed = { stable: NONE(), rollout: NONE(), step };
    const delta = (arm: 'stable' | 'rollout') => {
      const window = this.rollout.windows[arm];
      const before = this.flushed[arm];
      const now = { calls: window.calls, failures: window.failures, rejections: window.rejections };
      this.flushed[arm] = now;
      return {
        calls: now.calls - before.calls,
        failures: now.failures - before.failures,
        rejections: now.rejections - before.rejections,
        p99: window.p99,
      };
    };
    const arms = { stable: delta('stable'), rollout: delta('rollout') };
    if (arms.stable.calls === 0 && arms.rollout.calls === 0) return;
    // An error may come after Redis added them (a reply lost to a reset): adding them again could
    // count them twice, so they are not sent again. At worst a second of calls goes uncounted, and
    // the judgment waits for minCalls a little longer; it is never swayed by counts seen twice.
    await this.store.add(step, this.replica, arms).catch(() => undefined);
  }
}

function stripSince(state: SharedRolloutState): RolloutProgressState {
  const { since: _since, ...rest } = state;
  return rest;
}

/** The fleet's verdict: wait for `minCalls` on both arms, then the arms' comparison (p99: the slowest replica's). */
function judge(stable: SharedArmCounts, rollout: SharedArmCounts, analysis: RolloutAnalysisOptions | undefined) {
  const minCalls = analysis?.minCalls ?? DEFAULT_ROLLOUT_ANALYSIS.minCalls;
  if (stable.calls < minCalls || rollout.calls < minCalls) {
    return {
      verdict: 'wait' as const,
      reasons: [
        `${rollout.calls} calls on the rollout arm and ${stable.calls} on the stable one across the fleet; judged from ${minCalls} each`,
      ],
    };
  }
  const p99 = (values: number[]) => (values.length ? Math.max(...values) : undefined);
  return compareArms(
    { calls: stable.calls, failures: stable.failures, rejections: stable.rejections, p99: p99(stable.p99s) },
    { calls: rollout.calls, failures: rollout.failures, rejections: rollout.rejections, p99: p99(rollout.p99s) },
    analysis,
  );
}
