import { createRequire } from 'node:module';
import type { Cluster, Redis } from 'ioredis';
import { MemoryRateLimitStore } from '../core/rate-limiter/memory-store.js';
import {
  capacity,
  type RateLimitRule,
  type RateLimitStore,
  type RateLimitStrategy,
  type RateLimitVerdict,
} from '../core/rate-limiter/types.js';
import { packageRequire } from '../runtime/package-require.js';
import { OpIds, sendOnce } from './op-ids.js';
import { RATE_LIMIT_LUA } from './rate-limit.lua.js';

export type RedisFailureMode = 'open' | 'closed' | 'local';

export interface RedisRateLimitStoreOptions {
  /** An ioredis client or Cluster, created with enableOfflineQueue: false and a commandTimeout (see createRedisClient). */
  client: Redis | Cluster;
  /** Isolates apps and tenants sharing a Redis (the guide's key_prefix). Default 'nest-resilience'. */
  keyPrefix?: string;
  /**
   * While Redis cannot answer: 'open' admits, 'closed' denies (retry after 1 s), 'local'
   * (default) decides with an in-memory limiter in this process; Redis takes back over as
   * soon as it answers again.
   */
  failureMode?: RedisFailureMode;
  /** The in-memory store 'local' mode uses. */
  local?: MemoryRateLimitStore;
  /** Decisions sent in one script call at most. Default 64. */
  maxBatch?: number;
  /** Told of each Redis failure (the store keeps deciding through the failure mode). */
  onError?: (error: unknown) => void;
}

const STRATEGY_CODE: Record<RateLimitStrategy, number> = { token_bucket: 1, fixed_window: 2, sliding_window: 3 };
const OP = { consume: 1, peek: 2, reset: 3 } as const;
const COMMAND = 'nestResilienceRateLimit';

interface Pending {
  op: number;
  rules: readonly RateLimitRule[];
  key: string;
  cost: number;
  resolve: (verdicts: RateLimitVerdict[]) => void;
}

type ScriptClient = { [COMMAND](...args: (string | number)[]): Promise<number[]> };

/**
 * Limiter state in Redis, shared by every process. One round trip per decision at
 * most: decisions made in the same tick go together in one script call (one per hash
 * slot on a Cluster), each still atomic. Keys are `{prefix:key}:limiter`, so every
 * limiter of one key lives in one slot.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly client: Redis | Cluster;
  private readonly prefix: string;
  private readonly failureMode: RedisFailureMode;
  private readonly local: MemoryRateLimitStore;
  private readonly maxBatch: number;
  private readonly onError?: (error: unknown) => void;
  private readonly isCluster: boolean;
  private slotOf?: (key: string) => number;
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly opIds = new OpIds();

  constructor(options: RedisRateLimitStoreOptions) {
    this.client = options.client;
    this.prefix = options.keyPrefix ?? 'nest-resilience';
    this.failureMode = options.failureMode ?? 'local';
    this.local = options.local ?? new MemoryRateLimitStore();
    this.maxBatch = options.maxBatch ?? 64;
    this.onError = options.onError;
    this.isCluster = (this.client as { isCluster?: boolean }).isCluster === true;
    // Loaded once per client; ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT.
    if (!(COMMAND in this.client)) this.client.defineCommand(COMMAND, { lua: RATE_LIMIT_LUA });
  }

  consume(rules: readonly RateLimitRule[], key: string, cost: number): Promise<RateLimitVerdict[]> {
    return this.enqueue(OP.consume, rules, key, cost);
  }

  peek(rules: readonly RateLimitRule[], key: string, cost: number): Promise<RateLimitVerdict[]> {
    return this.enqueue(OP.peek, rules, key, cost);
  }

  async reset(rules: readonly RateLimitRule[], key: string): Promise<void> {
    await this.enqueue(OP.reset, rules, key, 1);
    this.local.reset(rules, key);
  }

  /** The Redis key of a limiter's state for `key`. */
  redisKey(rule: RateLimitRule, key: string): string {
    return `{${this.prefix}:${key}}:${rule.name}`;
  }

  private enqueue(op: number, rules: readonly RateLimitRule[], key: string, cost: number): Promise<RateLimitVerdict[]> {
    return new Promise((resolve) => {
      this.queue.push({ op, rules, key, cost, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        // After this tick's microtasks: every decision made meanwhile joins the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (!this.isCluster) {
      this.sendInChunks(batch);
      return;
    }
    const bySlot = new Map<number, Pending[]>();
    for (const p of batch) {
      const slot = this.slot(`{${this.prefix}:${p.key}}`);
      const group = bySlot.get(slot);
      if (group) group.push(p);
      else bySlot.set(slot, [p]);
    }
    for (const group of bySlot.values()) this.sendInChunks(group);
  }

  /**
   * A few pipelined script calls rather than one: while Redis runs one chunk, this
   * process encodes the next and decodes the last, so both keep busy.
   */
  private sendInChunks(batch: Pending[]): void {
    const chunks = Math.max(Math.ceil(batch.length / this.maxBatch), Math.min(4, Math.ceil(batch.length / 8)));
    const size = Math.ceil(batch.length / chunks);
    for (let i = 0; i < batch.length; i += size) this.send(batch.slice(i, i + size));
  }

  private send(batch: Pending[]): void {
    const defs: RateLimitRule[] = [];
    const defIndex = new Map<RateLimitRule, number>();
    const groups = new Map<string, Pending[]>();
    for (const p of batch) {
      let signature = `${p.op}|${p.cost}|${p.key}`;
      for (const rule of p.rules) {
        let index = defIndex.get(rule);
        if (index === undefined) {
          index = defs.push(rule);
          defIndex.set(rule, index);
        }
        signature += `|${index}`;
      }
      const group = groups.get(signature);
      if (group) group.push(p);
      else groups.set(signature, [p]);
    }
    const keys: string[] = [];
    const args: (string | number)[] = [defs.length];
    for (const rule of defs) args.push(STRATEGY_CODE[rule.strategy], capacity(rule), rule.windowMs, rule.rate);
    args.push(groups.size);
    const ordered: Pending[][] = [];
    for (const group of groups.values()) {
      const { op, cost, rules, key } = group[0];
      args.push(op, cost, group.length, rules.length);
      for (const rule of rules) {
        args.push(defIndex.get(rule) as number);
        keys.push(this.redisKey(rule, key));
      }
      ordered.push(group);
    }
    // One operation id for the batch: sent again (by ioredis after a reconnect, or here when
    // the outcome is unknown), it is answered with its first reply and counts once.
    const opId = batch.some((p) => p.op === OP.consume) ? this.opIds.id() : '';
    const script = this.client as unknown as ScriptClient;
    sendOnce(() => script[COMMAND](keys.length, ...keys, opId, ...args), this.client).then(
      (reply) => this.resolveAll(ordered, reply),
      (error: unknown) => this.fail(batch, error),
    );
  }

  private resolveAll(groups: Pending[][], reply: number[]): void {
    let i = 0;
    for (const group of groups) {
      for (const p of group) {
        const verdicts: RateLimitVerdict[] = [];
        for (const rule of p.rules) {
          verdicts.push({
            allowed: reply[i] === 1,
            limiter: rule.name,
            limit: capacity(rule),
            remaining: reply[i + 1],
            retryAfter: reply[i + 2] / 1000,
            resetAfter: reply[i + 3] / 1000,
            window: rule.windowMs / 1000,
          });
          i += 4;
        }
        p.resolve(verdicts);
      }
    }
  }

  /** Redis did not answer: decide every decision of the batch through the failure mode. */
  private fail(batch: Pending[], error: unknown): void {
    this.onError?.(error);
    for (const p of batch) {
      if (p.op === OP.reset) p.resolve([]);
      else if (this.failureMode === 'local') {
        p.resolve(
          p.op === OP.consume ? this.local.consume(p.rules, p.key, p.cost) : this.local.peek(p.rules, p.key, p.cost),
        );
      } else p.resolve(p.rules.map((rule) => outageVerdict(rule, this.failureMode === 'open')));
    }
  }

  private slot(tag: string): number {
    if (!this.slotOf) {
      // ioredis depends on cluster-key-slot: resolve it from ioredis; loaded only for a Cluster.
      const fromHere = packageRequire;
      this.slotOf = createRequire(fromHere.resolve('ioredis'))('cluster-key-slot') as (key: string) => number;
    }
    return this.slotOf(tag);
  }
}

function outageVerdict(rule: RateLimitRule, allowed: boolean): RateLimitVerdict {
  const limit = capacity(rule);
  return {
    allowed,
    limiter: rule.name,
    limit,
    remaining: allowed ? limit : 0,
    retryAfter: allowed ? 0 : 1,
    resetAfter: 1,
    window: rule.windowMs / 1000,
  };
}
