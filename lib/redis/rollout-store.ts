import type { Cluster, Redis } from 'ioredis';

/** A progressive rollout's state as the fleet shares it. */
export interface SharedRolloutState {
  step: number;
  percent: number;
  status: 'running' | 'promoted' | 'rolled_back' | 'held';
  reasons: string[];
  /** When the current step began (wall clock, epoch ms). */
  since: number;
}

/** One arm's counts over the fleet for a step, and each replica's p99 of it. */
export interface SharedArmCounts {
  calls: number;
  failures: number;
  rejections: number;
  p99s: number[];
}

type Arm = 'stable' | 'rollout';

/**
 * A progressive rollout shared by a fleet, in Redis: its state under one key (every replica
 * serves its share), each step's counts in a hash every replica adds to, and a short lock so
 * one replica judges each step. `rollout` names the rollout (its service and a signature of its
 * settings: a changed rollout starts over under a new name).
 */
export class RedisRolloutStore {
  private readonly base: string;

  constructor(
    private readonly client: Redis | Cluster,
    rollout: string,
    keyPrefix = 'nest-resilience',
  ) {
    // One hash tag: the state, the counts and the lock live on one Cluster slot.
    this.base = `${keyPrefix}:rollout:{${rollout}}`;
  }

  async state(): Promise<SharedRolloutState | undefined> {
    const text = await this.client.get(`${this.base}:state`);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as SharedRolloutState;
    } catch {
      return undefined;
    }
  }

  /** Sets the state if none is there yet (the first replica starts the rollout); answers the one in force. */
  async start(initial: SharedRolloutState): Promise<SharedRolloutState> {
    await this.client.set(`${this.base}:state`, JSON.stringify(initial), 'NX');
    return (await this.state()) ?? initial;
  }

  /** Replaces the state, if it is still at `step` (a judge that was too slow changes nothing). */
  async advance(fromStep: number, next: SharedRolloutState): Promise<boolean> {
    const script = `local s = redis.call('GET', KEYS[1])
if s and cjson.decode(s).step ~= tonumber(ARGV[1]) then return 0 end
if s and cjson.decode(s).status ~= 'running' then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;
    return (await this.client.eval(script, 1, `${this.base}:state`, String(fromStep), JSON.stringify(next))) === 1;
  }

  /** Adds one replica's counts since its last flush to `step` (its p99 of the step replaces its last one). */
  async add(
    step: number,
    replica: string,
    arms: Record<Arm, { calls: number; failures: number; rejections: number; p99?: number }>,
  ): Promise<void> {
    const key = `${this.base}:step:${step}`;
    const batch = this.client.multi();
    for (const arm of ['stable', 'rollout'] as const) {
      const counts = arms[arm];
      if (counts.calls > 0) batch.hincrby(key, `${arm}:calls`, counts.calls);
      if (counts.failures > 0) batch.hincrby(key, `${arm}:failures`, counts.failures);
      if (counts.rejections > 0) batch.hincrby(key, `${arm}:rejections`, counts.rejections);
      if (counts.p99 !== undefined) batch.hset(key, `${arm}:p99:${replica}`, String(counts.p99));
    }
    batch.pexpire(key, 24 * 3600_000);
    await batch.exec();
  }

  async counts(step: number): Promise<Record<Arm, SharedArmCounts>> {
    const fields = await this.client.hgetall(`${this.base}:step:${step}`);
    const arm = (name: Arm): SharedArmCounts => ({
      calls: Number(fields[`${name}:calls`] ?? 0),
      failures: Number(fields[`${name}:failures`] ?? 0),
      rejections: Number(fields[`${name}:rejections`] ?? 0),
      p99s: Object.entries(fields)
        .filter(([field]) => field.startsWith(`${name}:p99:`))
        .map(([, value]) => Number(value)),
    });
    return { stable: arm('stable'), rollout: arm('rollout') };
  }

  /** True for the one replica that judges this step now (the lock lasts `ms`). */
  async lock(step: number, replica: string, ms: number): Promise<boolean> {
    return (await this.client.set(`${this.base}:judge:${step}`, replica, 'PX', ms, 'NX')) === 'OK';
  }
}
