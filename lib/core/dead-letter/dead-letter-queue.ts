import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../clock.js';
import { ResilienceError } from '../errors.js';
import { LetterCodec } from './codec.js';
import { letterId } from './id.js';
import { MemoryDeadLetterBackend } from './memory-backend.js';
import { describeError, serializeValue } from './serialize.js';
import type {
  AttemptRecord,
  DeadLetterBackend,
  DeadLetterFilter,
  DeadLetterRecord,
  ListOptions,
  ListPage,
} from './types.js';

/** A letter larger than `maxMessageSize`: never silently dropped, so the caller hears of it. */
export class DeadLetterTooLargeError extends ResilienceError {
  constructor(
    readonly size: number,
    readonly limit: number,
    readonly queue: string,
  ) {
    super(`Dead letter for queue "${queue}" is ${size} bytes, over maxMessageSize ${limit} bytes`);
  }
}

export interface DeadLetterQueueOptions {
  /** The queue's name (metrics label, key namespace). */
  name: string;
  backend?: DeadLetterBackend;
  /** Replays tried before a letter is marked exhausted (kept, not replayed). Default 3. */
  maxRetryAttempts?: number;
  /** Letters older than this are removed. Default 7. */
  retentionDays?: number;
  /** Size at which the queue alerts (log, event, health). Default 100. */
  alertThreshold?: number;
  /** Bytes of a stored letter at most (after compression and encryption). */
  maxMessageSize?: number;
  /** Over maxMessageSize: store without the arguments, marked `truncated`, instead of throwing. */
  truncateOversized?: boolean;
  /** Used to measure the stored size when the backend encodes (Redis, SQS); JSON otherwise. */
  codec?: LetterCodec;
  clock?: Clock;
}

export interface DeadLetterInput {
  args?: unknown[];
  error: unknown;
  source?: DeadLetterRecord['source'];
  attempts?: number;
  history?: AttemptRecord[];
  reason?: string;
  headers?: Record<string, string>;
  traceId?: string;
}

export type ReplayHandler = (letter: DeadLetterRecord) => unknown;

export interface ReplayOptions {
  /** One letter by id. */
  id?: string;
  filter?: DeadLetterFilter;
  /** Letters replayed at most. Default: all that match. */
  limit?: number;
  /** Replays per second at most. Default 10. */
  ratePerSecond?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReplayReport {
  replayed: number;
  succeeded: number;
  failed: number;
  exhausted: number;
}

export interface DeadLetterQueueEvents {
  added: [DeadLetterRecord];
  alert: [{ queue: string; size: number; threshold: number }];
  recovered: [{ queue: string; size: number; threshold: number }];
  replayed: [{ letter: DeadLetterRecord; succeeded: boolean }];
}

/**
 * The guide's DeadLetterQueue over a backend: add, list, get, peek, size, oldestAge,
 * delete, purge, replay, retention, and an alert when the size reaches the threshold.
 */
export class DeadLetterQueue extends EventEmitter<DeadLetterQueueEvents> {
  readonly name: string;
  readonly backend: DeadLetterBackend;
  readonly maxRetryAttempts: number;
  readonly retentionDays: number;
  readonly alertThreshold: number;
  private readonly maxMessageSize?: number;
  private readonly truncateOversized: boolean;
  private readonly codec?: LetterCodec;
  private readonly clock: Clock;
  private alerting = false;

  constructor(options: DeadLetterQueueOptions) {
    super();
    this.name = options.name;
    this.backend = options.backend ?? new MemoryDeadLetterBackend();
    this.maxRetryAttempts = options.maxRetryAttempts ?? 3;
    this.retentionDays = options.retentionDays ?? 7;
    this.alertThreshold = options.alertThreshold ?? 100;
    this.maxMessageSize = options.maxMessageSize;
    this.truncateOversized = options.truncateOversized ?? false;
    this.codec = options.codec;
    this.clock = options.clock ?? systemClock;
  }

  /** True while the size is at or above the alert threshold. */
  get isAlerting(): boolean {
    return this.alerting;
  }

  /** Stores a failed call; resolves once the backend holds it (durably, for the file backend). */
  async add(input: DeadLetterInput): Promise<DeadLetterRecord> {
    const now = this.clock.now();
    const error = describeError(input.error);
    const history = input.history ?? [];
    const letter: DeadLetterRecord = {
      id: letterId(now),
      queue: this.name,
      source: input.source ?? {},
      args: serializeValue(input.args ?? []),
      error,
      attempts: input.attempts ?? Math.max(1, history.length),
      history,
      firstFailedAt: history[0]?.at ?? now,
      lastFailedAt: history[history.length - 1]?.at ?? now,
      reason: input.reason ?? 'failed',
      ...(input.headers ? { headers: input.headers } : {}),
      ...(input.traceId ? { traceId: input.traceId } : {}),
      replays: 0,
      status: 'pending',
      createdAt: now,
    };
    const sized = this.enforceSize(letter);
    const size = await this.backend.add(sized);
    this.emit('added', sized);
    await this.checkAlert(typeof size === 'number' ? size : undefined);
    return sized;
  }

  get(id: string): Promise<DeadLetterRecord | undefined> {
    return this.backend.get(id);
  }

  /** The oldest letters, without removing them. */
  async peek(count = 1): Promise<DeadLetterRecord[]> {
    return (await this.backend.list({ limit: count }, this.clock.now())).items;
  }

  list(options: ListOptions = {}): Promise<ListPage> {
    return this.backend.list(options, this.clock.now());
  }

  size(): Promise<number> {
    return this.backend.size();
  }

  /** Seconds since the oldest letter entered the queue (0 when empty). */
  async oldestAge(): Promise<number> {
    const oldest = await this.backend.oldest();
    return oldest ? Math.max(0, (this.clock.now() - oldest.createdAt) / 1000) : 0;
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.backend.delete(id);
    if (deleted) await this.checkAlert();
    return deleted;
  }

  async purge(): Promise<number> {
    const count = await this.backend.purge();
    await this.checkAlert();
    return count;
  }

  /** Removes letters older than retentionDays; returns how many. */
  async applyRetention(): Promise<number> {
    const cutoff = this.clock.now() - this.retentionDays * 86_400_000;
    const removed = await this.backend.deleteOlderThan(cutoff);
    if (removed) await this.checkAlert();
    return removed;
  }

  /**
   * Calls `handler` again for letters (one by id, those a filter matches, or all), at a
   * bounded rate. Success removes the letter; failure counts a replay, and after
   * maxRetryAttempts replays the letter stays, marked exhausted. Exhausted letters are
   * skipped unless asked for by id.
   */
  async replay(handler: ReplayHandler, options: ReplayOptions = {}): Promise<ReplayReport> {
    const report: ReplayReport = { replayed: 0, succeeded: 0, failed: 0, exhausted: 0 };
    const interval = 1000 / (options.ratePerSecond ?? 10);
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const targets = options.id !== undefined ? this.one(options.id) : this.matching(options.filter);
    for await (const letter of targets) {
      if (report.replayed >= limit) break;
      if (report.replayed > 0) await sleep(interval);
      report.replayed++;
      try {
        await handler(letter);
        await this.backend.delete(letter.id);
        report.succeeded++;
        this.emit('replayed', { letter, succeeded: true });
      } catch (error) {
        const now = this.clock.now();
        letter.replays++;
        letter.error = describeError(error);
        letter.lastFailedAt = now;
        letter.history.push({ attempt: letter.attempts + letter.replays, at: now, error: letter.error });
        if (letter.replays >= this.maxRetryAttempts) {
          letter.status = 'exhausted';
          report.exhausted++;
        }
        await this.backend.update(letter);
        report.failed++;
        this.emit('replayed', { letter, succeeded: false });
      }
    }
    await this.checkAlert();
    return report;
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  private async *one(id: string): AsyncGenerator<DeadLetterRecord> {
    const letter = await this.backend.get(id);
    if (letter) yield letter;
  }

  private async *matching(filter: DeadLetterFilter | undefined): AsyncGenerator<DeadLetterRecord> {
    let cursor: string | undefined;
    const skip = new Set<string>();
    for (;;) {
      const page = await this.backend.list(
        { filter: { ...filter, status: 'pending' }, limit: 100, cursor },
        this.clock.now(),
      );
      for (const letter of page.items) {
        if (skip.has(letter.id)) continue;
        skip.add(letter.id);
        yield letter;
      }
      if (!page.next) return;
      cursor = page.next;
    }
  }

  private enforceSize(letter: DeadLetterRecord): DeadLetterRecord {
    if (this.maxMessageSize === undefined) return letter;
    const size = this.storedSize(letter);
    if (size <= this.maxMessageSize) return letter;
    if (!this.truncateOversized) throw new DeadLetterTooLargeError(size, this.maxMessageSize, this.name);
    const truncated: DeadLetterRecord = { ...letter, args: null, truncated: { originalSize: size } };
    const stillTooLarge = this.storedSize(truncated);
    if (stillTooLarge > this.maxMessageSize)
      throw new DeadLetterTooLargeError(stillTooLarge, this.maxMessageSize, this.name);
    return truncated;
  }

  private storedSize(letter: DeadLetterRecord): number {
    return Buffer.byteLength(this.codec ? this.codec.encode(letter) : JSON.stringify(letter));
  }

  private async checkAlert(knownSize?: number): Promise<void> {
    const size = knownSize ?? (await this.backend.size());
    const payload = { queue: this.name, size, threshold: this.alertThreshold };
    if (!this.alerting && size >= this.alertThreshold) {
      this.alerting = true;
      this.emit('alert', payload);
    } else if (this.alerting && size < this.alertThreshold) {
      this.alerting = false;
      this.emit('recovered', payload);
    }
  }
}
