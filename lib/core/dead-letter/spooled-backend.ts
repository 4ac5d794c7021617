import { type Event, EventSource } from '../events.js';
import type { DamagedLetter, DeadLetterBackend, DeadLetterRecord, ListOptions, ListPage } from './types.js';

export interface SpooledBackendOptions {
  /** Where letters go (Redis). */
  primary: DeadLetterBackend;
  /** Where letters wait while the primary is unreachable: durable and local (the file log). */
  spool: DeadLetterBackend;
  /** Letters the spool holds at most; beyond it an add fails and the caller hears of it. Default 10,000. */
  maxLetters?: number;
  /** How often a non-empty spool tries to drain while the primary does not answer (ms). Default 1000. */
  drainEvery?: number;
  /** Letters moved per round of a drain (added together, deleted together). Default 500. */
  drainBatch?: number;
  onWarning?: (message: string) => void;
}

/** The spool is full: the letter was kept nowhere, so the caller gets the failure. */
export class DeadLetterSpoolFullError extends Error {}

/**
 * A primary backend with a local durable spool in front of its outages: an add the
 * primary refuses (Redis down, a timeout) is kept in the spool and acknowledged; the
 * spool drains into the primary as soon as it answers again, `drainBatch` letters a round
 * (the primary takes them in one script call, the spool deletes them in one durable
 * write), round after round until it is empty. New letters go to the primary once a drain
 * round has reached it (not behind the spool): the primary's index sorts letters by id,
 * which is time-ordered, so a letter drained later still lists in the order it was made.
 * A letter that reached the primary before its add timed out is not doubled: the drain
 * treats "already exists" as delivered.
 */
export class SpooledDeadLetterBackend implements DeadLetterBackend {
  readonly kind: string;
  readonly maxMessageSize?: number;
  private readonly primary: DeadLetterBackend;
  private readonly spool: DeadLetterBackend;
  private readonly maxLetters: number;
  private readonly drainEvery: number;
  private readonly drainBatch: number;
  private readonly warn: (message: string) => void;
  private spooled = 0;
  /** Letters counted in `spooled` whose write to the spool has not finished yet. */
  private appending = 0;
  /** Writes to the spool started so far (a size read spans none of them when it is unchanged). */
  private appendsStarted = 0;
  /** The primary's size when it last answered: the size while it does not. */
  private primarySize = 0;
  private draining?: Promise<void>;
  private timer?: NodeJS.Timeout;
  /** Set by a refused add, cleared by one the primary took (an add or a drain round). */
  private outage = false;
  private readonly drained = new EventSource<{ count: number }>();
  /** Letters moved from the spool to the primary, a round at a time. */
  readonly onDrained: Event<{ count: number }> = this.drained.event;

  constructor(options: SpooledBackendOptions) {
    this.primary = options.primary;
    this.spool = options.spool;
    this.kind = options.primary.kind;
    this.maxMessageSize = options.primary.maxMessageSize;
    this.maxLetters = options.maxLetters ?? 10_000;
    this.drainEvery = options.drainEvery ?? 1000;
    this.drainBatch = options.drainBatch ?? 500;
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, { code: 'NEST_RESILIENCE_DLQ' }));
  }

  set onDamaged(listener: ((damage: DamagedLetter) => void) | undefined) {
    this.primary.onDamaged = listener;
    this.spool.onDamaged = listener;
  }

  /** Reads the spool's size (letters left by an earlier run are drained too). */
  async open(): Promise<void> {
    this.spooled = await this.spool.size();
    if (this.spooled > 0) this.schedule();
  }

  /** Letters waiting in the spool. */
  get spoolSize(): number {
    return this.spooled;
  }

  async add(letter: DeadLetterRecord): Promise<number> {
    // During an outage letters go straight to the spool: the drain finds out when it is over.
    if (this.outage) return this.keepLocally(letter, undefined);
    try {
      const size = await this.primary.add(letter);
      if (typeof size === 'number') this.primarySize = size;
      return (size ?? this.primarySize) + this.spooled;
    } catch (error) {
      return this.keepLocally(letter, error);
    }
  }

  private async keepLocally(letter: DeadLetterRecord, cause: unknown): Promise<number> {
    if (this.spooled >= this.maxLetters) {
      throw new DeadLetterSpoolFullError(
        `dead-letter store unavailable and the local spool is full (${this.maxLetters} letters): letter ${letter.id} was not kept`,
        { cause },
      );
    }
    if (!this.outage && cause !== undefined) {
      this.outage = true;
      this.warn(`dead-letter store unavailable (${(cause as Error).message}); letters are spooled locally`);
    }
    this.spooled++;
    this.appending++;
    this.appendsStarted++;
    try {
      await this.spool.add(letter);
    } catch (error) {
      this.spooled--;
      throw error;
    } finally {
      this.appending--;
    }
    this.schedule();
    return this.primarySize + this.spooled;
  }

  private schedule(): void {
    if (this.timer || this.draining) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, this.drainEvery);
    this.timer.unref();
  }

  /** Moves spooled letters into the primary, oldest first, round after round; stops at the first refusal. */
  drain(): Promise<void> {
    this.draining ??= this.moveAll().finally(() => {
      this.draining = undefined;
      if (this.spooled > 0) this.schedule();
    });
    return this.draining;
  }

  private async moveAll(): Promise<void> {
    for (;;) {
      const { items } = await this.spool.list({ limit: this.drainBatch }, Date.now());
      if (items.length === 0) {
        await this.recount();
        return;
      }
      // One round: every letter offered at once (one script call), the delivered ones deleted at once.
      const offered = await Promise.allSettled(items.map((letter) => this.primary.add(letter)));
      const delivered: string[] = [];
      offered.forEach((result, i) => {
        if (result.status === 'fulfilled') {
          if (typeof result.value === 'number') this.primarySize = Math.max(this.primarySize, result.value);
          delivered.push(items[i].id);
        } else if (/already exists/.test((result.reason as Error)?.message)) delivered.push(items[i].id);
      });
      if (delivered.length > 0 && this.outage) {
        this.outage = false;
        this.warn('dead-letter store is back; spooling stopped');
      }
      await Promise.all(delivered.map((id) => this.spool.delete(id)));
      this.spooled = Math.max(0, this.spooled - delivered.length);
      if (delivered.length > 0) this.drained.emit({ count: delivered.length });
      if (delivered.length < items.length) return;
    }
  }

  /**
   * Sets the count from the spool's own size, unless a letter was being written meanwhile:
   * one counted but not yet in the file would be lost from the count (the letters themselves
   * are kept; the gauge said 29 of 35 after a drain read the size during the writes).
   */
  private async recount(): Promise<void> {
    if (this.appending > 0) return;
    const started = this.appendsStarted;
    const size = await this.spool.size();
    if (this.appending === 0 && this.appendsStarted === started) this.spooled = size;
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    if (this.spooled > 0) {
      const local = await this.spool.get(id);
      if (local) return local;
    }
    return this.primary.get(id);
  }

  async update(letter: DeadLetterRecord): Promise<void> {
    if (this.spooled > 0 && (await this.spool.get(letter.id))) return this.spool.update(letter);
    return this.primary.update(letter);
  }

  async delete(id: string): Promise<boolean> {
    if (this.spooled > 0 && (await this.spool.delete(id))) {
      this.spooled--;
      return true;
    }
    return this.primary.delete(id);
  }

  /** The primary's letters (spooled ones appear there once drained). */
  list(options: ListOptions, now: number): Promise<ListPage> {
    return this.primary.list(options, now);
  }

  /** While the primary does not answer: its last known size plus the spool. */
  async size(): Promise<number> {
    try {
      this.primarySize = await this.primary.size();
    } catch {
      // Unreachable: the last size it gave.
    }
    return this.primarySize + this.spooled;
  }

  oldest(): Promise<DeadLetterRecord | undefined> {
    return this.primary.oldest();
  }

  async deleteOlderThan(epochMs: number): Promise<number> {
    const local = this.spooled > 0 ? await this.spool.deleteOlderThan(epochMs) : 0;
    this.spooled = Math.max(0, this.spooled - local);
    return local + (await this.primary.deleteOlderThan(epochMs));
  }

  async purge(): Promise<number> {
    const local = await this.spool.purge();
    this.spooled = 0;
    return local + (await this.primary.purge());
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining?.catch(() => undefined);
    await this.spool.close();
    await this.primary.close();
  }
}
