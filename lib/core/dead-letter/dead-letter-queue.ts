import { type Clock, wallClock } from '../clock.js';
import type { Event } from '../events.js';
import { LetterCodec } from './codec.js';
import { letterId } from './id.js';
import { DEFAULT_MAX_MESSAGE_SIZE, DeadLetterTooLargeError, fitToSize } from './letter-size.js';
import { MemoryDeadLetterBackend } from './memory-backend.js';
import {
  type DeadLetterQueueEventName,
  type DeadLetterQueueEvents,
  NamedSubscriptions,
  queueEventSources,
} from './queue-events.js';
import {
  checkReplayOptions,
  oneLetter,
  pendingLetters,
  type ReplayHandler,
  type ReplayOptions,
  type ReplayReport,
  refusal,
} from './replay.js';
import { describeError, serializeArguments } from './serialize.js';
import type {
  AttemptRecord,
  DamagedLetter,
  DeadLetterBackend,
  DeadLetterRecord,
  ListOptions,
  ListPage,
} from './types.js';

export { DEFAULT_MAX_MESSAGE_SIZE, DeadLetterTooLargeError } from './letter-size.js';

/** Damaged letters remembered per queue for the report (the oldest are forgotten first). */
const DAMAGE_REPORT_SIZE = 1000;

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
  /**
   * Bytes of a stored letter at most (after compression and encryption). Default: the
   * backend's own limit (SQS: 256 KiB), else DEFAULT_MAX_MESSAGE_SIZE (1 MiB).
   */
  maxMessageSize?: number;
  /**
   * Arguments that cannot be kept (over maxMessageSize as stored, unreadable, too deep): true
   * (default) keeps the letter with markers in their place, flagged `truncated` with the
   * reason; false refuses it with DeadLetterTooLargeError (the call's own error still reaches
   * its caller).
   */
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

export type { DeadLetterQueueEventName, DeadLetterQueueEvents } from './queue-events.js';

/**
 * The guide's DeadLetterQueue over a backend: add, list, get, peek, size, oldestAge,
 * delete, purge, replay, retention, and an alert when the size reaches the threshold.
 */
export class DeadLetterQueue {
  readonly name: string;
  readonly backend: DeadLetterBackend;
  readonly maxRetryAttempts: number;
  readonly retentionDays: number;
  readonly alertThreshold: number;
  readonly maxMessageSize: number;
  private readonly damage = new Map<string, DamagedLetter & { at: number }>();
  private damagedTotal = 0;
  private readonly truncateOversized: boolean;
  private readonly codec?: LetterCodec;
  private readonly clock: Clock;
  private alerting = false;
  private readonly sources = queueEventSources();
  private readonly byName = new NamedSubscriptions(this.sources);
  /** A letter was stored. Typed events: subscribe at any time; a throwing listener changes nothing. */
  readonly onAdded: Event<DeadLetterRecord> = this.sources.added.event;
  /** The size reached the alert threshold. */
  readonly onAlert: Event<DeadLetterQueueEvents['alert'][0]> = this.sources.alert.event;
  /** The size went back under the threshold. */
  readonly onRecovered: Event<DeadLetterQueueEvents['recovered'][0]> = this.sources.recovered.event;
  /** A replay of a letter ended. */
  readonly onReplayed: Event<DeadLetterQueueEvents['replayed'][0]> = this.sources.replayed.event;
  /** A letter was found unreadable. */
  readonly onDamaged: Event<DeadLetterQueueEvents['damaged'][0]> = this.sources.damaged.event;

  constructor(options: DeadLetterQueueOptions) {
    this.name = options.name;
    this.backend = options.backend ?? new MemoryDeadLetterBackend();
    this.maxRetryAttempts = options.maxRetryAttempts ?? 3;
    this.retentionDays = options.retentionDays ?? 7;
    this.alertThreshold = options.alertThreshold ?? 100;
    this.maxMessageSize = options.maxMessageSize ?? this.backend.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!(Number.isInteger(this.maxMessageSize) && this.maxMessageSize > 0)) {
      throw new RangeError(
        `dead-letter queue "${this.name}": maxMessageSize must be an integer > 0, got ${this.maxMessageSize}`,
      );
    }
    this.backend.onDamaged = (damage) => this.reportDamage(damage);
    this.truncateOversized = options.truncateOversized ?? true;
    this.codec = options.codec;
    // Letters are read by people and by other processes: their times are the wall clock's.
    this.clock = options.clock ?? wallClock;
  }

  /** True while the size is at or above the alert threshold. */
  get isAlerting(): boolean {
    return this.alerting;
  }

  /**
   * Letters found unreadable (damaged, tampered with, not sealed): skipped by list and
   * replay, left where they are, and reported here, in the 'damaged' event and the log.
   */
  damaged(): { total: number; recent: (DamagedLetter & { at: number })[] } {
    return { total: this.damagedTotal, recent: [...this.damage.values()] };
  }

  private reportDamage(damage: DamagedLetter): void {
    this.damagedTotal++;
    const key = damage.id ?? `#${this.damagedTotal}`;
    this.damage.delete(key);
    this.damage.set(key, { ...damage, at: this.clock.now() });
    if (this.damage.size > DAMAGE_REPORT_SIZE) this.damage.delete(this.damage.keys().next().value as string);
    this.fire('damaged', { ...damage, queue: this.name });
  }

  /** Stores a failed call; resolves once the backend holds it (durably, for the file backend). */
  async add(input: DeadLetterInput): Promise<DeadLetterRecord> {
    const now = this.clock.now();
    const error = describeError(input.error);
    const history = input.history ?? [];
    // Never lost to its arguments: what cannot be read, or is far past the size (a 64 MiB
    // Buffer, never copied), is left out with a marker saying why, and the letter is flagged.
    const budget = Math.max(16 * this.maxMessageSize, 16 * 1024 * 1024);
    const { value: args, omitted } = serializeArguments(input.args ?? [], { maxBytes: budget });
    if (omitted.length > 0 && !this.truncateOversized) {
      throw new DeadLetterTooLargeError(undefined, this.maxMessageSize, this.name, omitted.join('; '));
    }
    const letter: DeadLetterRecord = {
      id: letterId(now),
      queue: this.name,
      source: input.source ?? {},
      args,
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
      ...(omitted.length > 0 ? { truncated: { reason: omitted.join('; ') } } : {}),
    };
    const sized = fitToSize(letter, this.maxMessageSize, this.truncateOversized, this.codec, this.name);
    const size = await this.backend.add(sized);
    this.fire('added', sized);
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
    checkReplayOptions(this.name, options);
    const report: ReplayReport = { replayed: 0, succeeded: 0, failed: 0, exhausted: 0 };
    const interval = 1000 / (options.ratePerSecond ?? 10);
    const sleep = options.sleep ?? ((ms: number) => abortableSleep(ms, options.signal));
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const targets =
      options.id !== undefined
        ? oneLetter(this.backend, options.id)
        : pendingLetters(this.backend, options.filter, this.clock);
    const { signal } = options;
    const aborted = () => {
      report.stopped = { reason: 'aborted', retryAfter: 0 };
      return true;
    };
    for await (const letter of targets) {
      if (report.replayed >= limit) break;
      if (signal?.aborted && aborted()) break;
      if (report.replayed > 0) await untilOrAborted(sleep(interval), signal);
      if (signal?.aborted && aborted()) break;
      try {
        await handler(letter);
      } catch (error) {
        const stopped = refusal(error);
        if (stopped) {
          // Still refused: the dependency was never called, so nothing counts; try again later.
          report.stopped = stopped;
          break;
        }
        report.replayed++;
        await this.recordFailedReplay(letter, error, report);
        continue;
      }
      report.replayed++;
      await this.backend.delete(letter.id);
      report.succeeded++;
      this.fire('replayed', { letter, succeeded: true });
    }
    await this.checkAlert();
    return report;
  }

  private async recordFailedReplay(letter: DeadLetterRecord, error: unknown, report: ReplayReport): Promise<void> {
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
    this.fire('replayed', { letter, succeeded: false });
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  private async checkAlert(knownSize?: number): Promise<void> {
    const size = knownSize ?? (await this.backend.size());
    const payload = { queue: this.name, size, threshold: this.alertThreshold };
    if (!this.alerting && size >= this.alertThreshold) {
      this.alerting = true;
      this.fire('alert', payload);
    } else if (this.alerting && size < this.alertThreshold) {
      this.alerting = false;
      this.fire('recovered', payload);
    }
  }

  private fire<K extends DeadLetterQueueEventName>(name: K, data: DeadLetterQueueEvents[K][0]): void {
    this.sources[name].emit(data);
  }

  /** @deprecated since 0.2: the typed events (`onAdded`, `onAlert`...), which this subscribes to. */
  on<K extends DeadLetterQueueEventName>(name: K, listener: (data: DeadLetterQueueEvents[K][0]) => void): this {
    this.byName.add(name, listener);
    return this;
  }

  /** @deprecated since 0.2: the typed events, subscribed once. */
  once<K extends DeadLetterQueueEventName>(name: K, listener: (data: DeadLetterQueueEvents[K][0]) => void): this {
    this.byName.add(name, listener, true);
    return this;
  }

  /** @deprecated since 0.2: the function a typed event returns stops its subscription. */
  off<K extends DeadLetterQueueEventName>(name: K, listener: (data: DeadLetterQueueEvents[K][0]) => void): this {
    this.byName.remove(name, listener);
    return this;
  }
}

/** Resolves with `wait`, or at once when `signal` aborts (the wait's own timer stays its own). */
function untilOrAborted(wait: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return wait;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    wait.then(done, done);
  });
}

/** A wait whose timer is cleared when `signal` aborts: nothing is left holding the process. */
function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
