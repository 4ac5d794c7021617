import type { DamagedLetter, DeadLetterBackend, DeadLetterRecord, ListOptions, ListPage } from './types.js';

export interface SpooledBackendOptions {
  /** Where letters go (Redis). */
  primary: DeadLetterBackend;
  /** Where letters wait while the primary is unreachable: durable and local (the file log). */
  spool: DeadLetterBackend;
  /** Letters the spool holds at most; beyond it an add fails and the caller hears of it. Default 10,000. */
  maxLetters?: number;
  /** How often a non-empty spool tries to drain (ms). Default 1000. */
  drainEvery?: number;
  onWarning?: (message: string) => void;
}

/** The spool is full: the letter was kept nowhere, so the caller gets the failure. */
export class DeadLetterSpoolFullError extends Error {}

/**
 * A primary backend with a local durable spool in front of its outages: an add the
 * primary refuses (Redis down, a timeout) is kept in the spool and acknowledged; the
 * spool drains into the primary, oldest first, as soon as it answers again. A letter
 * that reached the primary before its add timed out is not doubled: the drain treats
 * "already exists" as delivered.
 */
export class SpooledDeadLetterBackend implements DeadLetterBackend {
  readonly kind: string;
  readonly maxMessageSize?: number;
  private readonly primary: DeadLetterBackend;
  private readonly spool: DeadLetterBackend;
  private readonly maxLetters: number;
  private readonly drainEvery: number;
  private readonly warn: (message: string) => void;
  private spooled = 0;
  /** The primary's size when it last answered: the size while it does not. */
  private primarySize = 0;
  private draining?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private outage = false;

  constructor(options: SpooledBackendOptions) {
    this.primary = options.primary;
    this.spool = options.spool;
    this.kind = options.primary.kind;
    this.maxMessageSize = options.primary.maxMessageSize;
    this.maxLetters = options.maxLetters ?? 10_000;
    this.drainEvery = options.drainEvery ?? 1000;
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
    if (this.spooled === 0) {
      try {
        const size = await this.primary.add(letter);
        if (typeof size === 'number') this.primarySize = size;
        if (this.outage) {
          this.outage = false;
          this.warn('dead-letter store is back; spooling stopped');
        }
        return size ?? this.primarySize;
      } catch (error) {
        return this.keepLocally(letter, error);
      }
    }
    // Letters already wait: this one waits behind them, so order is kept.
    return this.keepLocally(letter, undefined);
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
    try {
      await this.spool.add(letter);
    } catch (error) {
      this.spooled--;
      throw error;
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

  /** Moves spooled letters into the primary, oldest first; stops at the first refusal. */
  drain(): Promise<void> {
    this.draining ??= this.moveAll().finally(() => {
      this.draining = undefined;
      if (this.spooled > 0) this.schedule();
    });
    return this.draining;
  }

  private async moveAll(): Promise<void> {
    for (;;) {
      const { items } = await this.spool.list({ limit: 100 }, Date.now());
      if (items.length === 0) {
        this.spooled = await this.spool.size();
        return;
      }
      for (const letter of items) {
        try {
          const size = await this.primary.add(letter);
          if (typeof size === 'number') this.primarySize = size;
        } catch (error) {
          if (!/already exists/.test((error as Error).message)) return;
        }
        await this.spool.delete(letter.id);
        this.spooled = Math.max(0, this.spooled - 1);
      }
    }
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
