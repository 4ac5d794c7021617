import type { Cluster, Redis } from 'ioredis';

/**
 * A budget of extra attempts shared by a fleet, in Redis: one hash per service, each replica's
 * window (its calls and extra attempts over the budget's window, and when it said so) under its
 * own field. A replica writes its own and reads the others': the others of a replica that stopped
 * writing are left out after `staleMs`. Idempotent writes (a field set again changes nothing).
 */
export class RedisBudgetStore {
  private readonly key: string;

  constructor(
    private readonly client: Redis | Cluster,
    service: string,
    keyPrefix = 'nest-resilience',
    private readonly staleMs = 5000,
  ) {
    this.key = `${keyPrefix}:budget:{${service}}`;
  }

  /** Writes this replica's window; answers the sum of the other replicas' fresh ones. */
  async exchange(
    replica: string,
    own: { calls: number; extras: number },
    now = Date.now(),
  ): Promise<{ calls: number; extras: number }> {
    const [, , [, fields]] = (await this.client
      .multi()
      .hset(this.key, replica, `${own.calls},${own.extras},${now}`)
      .pexpire(this.key, this.staleMs * 4)
      .hgetall(this.key)
      .exec()) as [unknown, unknown, [unknown, Record<string, string>]];
    let calls = 0;
    let extras = 0;
    const stale: string[] = [];
    for (const [field, value] of Object.entries(fields ?? {})) {
      if (field === replica) continue;
      const [c, e, at] = value.split(',').map(Number);
      if (!(now - (at as number) <= this.staleMs)) {
        stale.push(field);
        continue;
      }
      calls += Number.isFinite(c) ? (c as number) : 0;
      extras += Number.isFinite(e) ? (e as number) : 0;
    }
    if (stale.length > 0) await this.client.hdel(this.key, ...stale).catch(() => 0);
    return { calls, extras };
  }
}
