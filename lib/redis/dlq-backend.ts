import type { Cluster, Redis } from 'ioredis';
import { LetterCodec } from '../core/dead-letter/codec.js';
import { letterId } from '../core/dead-letter/id.js';
import {
  type DamagedLetter,
  type DeadLetterBackend,
  type DeadLetterRecord,
  type ListOptions,
  type ListPage,
  matchesFilter,
} from '../core/dead-letter/types.js';
import { sendOnce } from './op-ids.js';

export interface RedisDeadLetterBackendOptions {
  client: Redis | Cluster;
  queue: string;
  /** Isolates apps and tenants (the guide's key_prefix). Default 'dlq'. */
  keyPrefix?: string;
  codec?: LetterCodec;
  /** Disconnect the client on close (when the backend made it for its own URL). */
  ownsClient?: boolean;
}

/** KEYS: letters hash, ids sorted set. ARGV: id, body, mode ('add' | 'update'). Returns the size. */
const PUT = `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1])
if ARGV[3] == 'add' and exists == 1 then return redis.error_reply('dead letter ' .. ARGV[1] .. ' already exists') end
if ARGV[3] == 'update' and exists == 0 then return redis.error_reply('dead letter ' .. ARGV[1] .. ' does not exist') end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return redis.call('ZCARD', KEYS[2])
`;
/**
 * Adds several letters at once. KEYS: letters hash, ids sorted set. ARGV: id, body pairs.
 * Returns per letter 1 (added, or already there with this very body: the repeat of an add
 * whose reply was lost) or 0 (another letter has the id), then the size after all of them.
 */
const ADD_MANY = `
local out = {}
for i = 1, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[2], 0, ARGV[i])
    out[#out + 1] = 1
  elseif redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
out[#out + 1] = redis.call('ZCARD', KEYS[2])
return out
`;
/** KEYS: letters hash, ids sorted set. ARGV: ids. Returns how many were removed. */
const REMOVE = `
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return n
`;

interface Scripts {
  nrDlqPut(hash: string, index: string, id: string, body: string, mode: string): Promise<number>;
  nrDlqAddMany(hash: string, index: string, ...idsAndBodies: string[]): Promise<number[]>;
  nrDlqRemove(hash: string, index: string, ...ids: string[]): Promise<number>;
}

/**
 * Dead letters in Redis, shared by every instance: bodies in a hash, ids in a sorted set
 * whose members sort by time (every score is 0 and ids are time-ordered), so a page is
 * ZRANGE BYLEX from the cursor and size is ZCARD, whatever the queue holds. Adds and
 * removals are atomic (Lua). Both keys carry the hash tag {prefix:queue} for Cluster.
 */
export class RedisDeadLetterBackend implements DeadLetterBackend {
  readonly kind = 'redis';
  onDamaged?: (damage: DamagedLetter) => void;
  private readonly queue: string;
  private readonly client: Redis | Cluster;
  private readonly hash: string;
  private readonly index: string;
  private readonly codec: LetterCodec;
  private readonly ownsClient: boolean;
  private pending: { id: string; body: string; resolve: (size: number) => void; reject: (error: unknown) => void }[] =
    [];

  constructor(options: RedisDeadLetterBackendOptions) {
    this.client = options.client;
    this.queue = options.queue;
    const tag = `{${options.keyPrefix ?? 'dlq'}:${options.queue}}`;
    this.hash = `${tag}:letters`;
    this.index = `${tag}:ids`;
    this.codec = options.codec ?? new LetterCodec();
    this.ownsClient = options.ownsClient ?? false;
    if (!('nrDlqPut' in this.client)) {
      this.client.defineCommand('nrDlqPut', { lua: PUT, numberOfKeys: 2 });
      this.client.defineCommand('nrDlqAddMany', { lua: ADD_MANY, numberOfKeys: 2 });
      this.client.defineCommand('nrDlqRemove', { lua: REMOVE, numberOfKeys: 2 });
    }
  }

  private get scripts(): Scripts {
    return this.client as unknown as Scripts;
  }

  /**
   * Adds made in the same tick go in one script call (each letter still added atomically),
   * which saves most of the per-command cost when many calls fail at once.
   */
  add(letter: DeadLetterRecord): Promise<number> {
    const body = this.codec.encode(letter);
    return new Promise((resolve, reject) => {
      this.pending.push({ id: letter.id, body, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flushAdds());
    });
  }

  private flushAdds(): void {
    const batch = this.pending;
    this.pending = [];
    // A few pipelined calls rather than one: this process handles one reply while Redis runs the next.
    const size = Math.min(256, Math.max(8, Math.ceil(batch.length / 8)));
    for (let i = 0; i < batch.length; i += size) {
      const chunk = batch.slice(i, i + size);
      const args = chunk.flatMap((p) => [p.id, p.body]);
      // Adding the same letter again is harmless (same id, same body): sent again when its reply was lost.
      sendOnce(() => this.scripts.nrDlqAddMany(this.hash, this.index, ...args), this.client).then(
        (reply) => {
          const total = reply[reply.length - 1];
          chunk.forEach((p, j) => {
            if (reply[j] === 1) p.resolve(total);
            else p.reject(new Error(`dead letter ${p.id} already exists`));
          });
        },
        (error: unknown) => {
          for (const p of chunk) p.reject(error);
        },
      );
    }
  }

  async update(letter: DeadLetterRecord): Promise<void> {
    await this.scripts.nrDlqPut(this.hash, this.index, letter.id, this.codec.encode(letter), 'update');
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    const body = await this.client.hget(this.hash, id);
    return body === null ? undefined : this.decode(id, body);
  }

  /** A stored letter, or undefined (reported) if it is damaged, forged or moved. */
  private decode(id: string, body: string): DeadLetterRecord | undefined {
    try {
      return this.codec.decode(body, { id, queue: this.queue });
    } catch (error) {
      this.onDamaged?.({ id, reason: (error as Error).message });
      return undefined;
    }
  }

  async delete(id: string): Promise<boolean> {
    return (await this.scripts.nrDlqRemove(this.hash, this.index, id)) > 0;
  }

  async list({ filter, limit = 50, cursor }: ListOptions, now: number): Promise<ListPage> {
    const items: DeadLetterRecord[] = [];
    let from = cursor === undefined ? '-' : `(${cursor}`;
    // Unfiltered: exactly one page is read. Filtered: pages are read until one is full.
    for (;;) {
      const ids = await this.client.zrangebylex(this.index, from, '+', 'LIMIT', 0, limit + 1);
      if (ids.length === 0) return { items };
      const page = ids.slice(0, limit);
      const bodies = await this.client.hmget(this.hash, ...page);
      for (const [i, body] of bodies.entries()) {
        if (body === null) continue;
        const letter = this.decode(page[i], body);
        if (letter && matchesFilter(letter, filter, now)) items.push(letter);
        if (items.length === limit) {
          const more = ids.length > limit || page[i] !== page[page.length - 1];
          return more ? { items, next: page[i] } : { items };
        }
      }
      if (ids.length <= limit) return { items };
      from = `(${page[page.length - 1]}`;
    }
  }

  async size(): Promise<number> {
    return this.client.zcard(this.index);
  }

  async oldest(): Promise<DeadLetterRecord | undefined> {
    // The oldest readable letter: a damaged one is reported and passed over.
    for (let from = 0; ; from += 20) {
      const ids = await this.client.zrange(this.index, String(from), String(from + 19));
      if (ids.length === 0) return undefined;
      const bodies = await this.client.hmget(this.hash, ...ids);
      for (const [i, body] of bodies.entries()) {
        const letter = body === null ? undefined : this.decode(ids[i], body);
        if (letter) return letter;
      }
    }
  }

  async deleteOlderThan(epochMs: number): Promise<number> {
    // Ids begin with their creation time, so "older than" is a lexical range.
    const bound = `(${letterId(epochMs).slice(0, 9)}`;
    let removed = 0;
    for (;;) {
      const ids = await this.client.zrangebylex(this.index, '-', bound, 'LIMIT', 0, 500);
      if (ids.length === 0) return removed;
      removed += await this.scripts.nrDlqRemove(this.hash, this.index, ...ids);
    }
  }

  async purge(): Promise<number> {
    const count = await this.client.zcard(this.index);
    await this.client.del(this.hash, this.index);
    return count;
  }

  /** Disconnects the client only if it was made for this backend. */
  async close(): Promise<void> {
    if (this.ownsClient) this.client.disconnect();
  }
}
