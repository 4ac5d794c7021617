import type { Cluster, Redis } from 'ioredis';

/** One experiment as the fleet keeps it: its settings and when it ends (wall clock, epoch ms). */
export interface SharedChaosExperiment {
  id: string;
  endsAtWall: number;
  /** The experiment's settings (JSON: no predicate). */
  [field: string]: unknown;
}

/**
 * The fleet's chaos experiments in one Redis hash (id -> JSON). Every replica reads it
 * periodically; an experiment carries its own end, so it ends when the replica that started it
 * has died. Every command is idempotent (a reply lost to a reset and the command sent again
 * changes nothing).
 */
export class RedisChaosStore {
  private readonly key: string;

  constructor(
    private readonly client: Redis | Cluster,
    keyPrefix = 'nest-resilience',
  ) {
    this.key = `${keyPrefix}:chaos:experiments`;
  }

  async put(experiment: SharedChaosExperiment): Promise<void> {
    await this.client.hset(this.key, experiment.id, JSON.stringify(experiment));
  }

  /** True when it was there. */
  async remove(id: string): Promise<boolean> {
    return (await this.client.hdel(this.key, id)) > 0;
  }

  /** Removes every experiment; returns their ids. */
  async clear(): Promise<string[]> {
    const [[, ids]] = (await this.client.multi().hkeys(this.key).del(this.key).exec()) as [[unknown, string[]]];
    return ids ?? [];
  }

  /** Every experiment kept (damaged entries are dropped: they could never be parsed by anyone). */
  async all(): Promise<SharedChaosExperiment[]> {
    const entries = await this.client.hgetall(this.key);
    const experiments: SharedChaosExperiment[] = [];
    for (const [id, json] of Object.entries(entries)) {
      try {
        const parsed = JSON.parse(json) as SharedChaosExperiment;
        if (parsed && parsed.id === id && typeof parsed.endsAtWall === 'number') experiments.push(parsed);
        else await this.remove(id);
      } catch {
        await this.remove(id);
      }
    }
    return experiments;
  }
}
