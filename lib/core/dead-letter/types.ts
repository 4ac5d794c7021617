/** An error as a dead letter keeps it. */
export interface LetterError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  status?: number;
}

export interface AttemptRecord {
  attempt: number;
  /** Epoch ms. */
  at: number;
  error: LetterError;
}

/** A call that failed for good, kept so that nothing is lost and it can be replayed. */
export interface DeadLetterRecord {
  /** Time-ordered and unique. */
  id: string;
  queue: string;
  source: { service?: string; className?: string; method?: string };
  /** The call's arguments, safely serialized (see serializeValue). */
  args: unknown;
  error: LetterError;
  /** Attempts the original call made. */
  attempts: number;
  history: AttemptRecord[];
  /** Epoch ms. */
  firstFailedAt: number;
  lastFailedAt: number;
  /** Why it was dead-lettered: 'failed', 'circuit_open', or one of the caller's. */
  reason: string;
  headers?: Record<string, string>;
  traceId?: string;
  /** Replays tried so far. */
  replays: number;
  /** 'exhausted' once maxRetryAttempts replays failed: kept, but no longer replayed. */
  status: 'pending' | 'exhausted';
  /** Epoch ms when it entered the queue. */
  createdAt: number;
  /**
   * Set when parts of the arguments could not be kept (unreadable, too deep, over the size):
   * markers `{ "$type": "omitted", "reason" }` stand in their place; `originalSize` is the
   * stored size the whole letter would have had, when that was what did not fit.
   */
  truncated?: { reason: string; originalSize?: number };
}

export interface DeadLetterFilter {
  service?: string;
  className?: string;
  method?: string;
  reason?: string;
  status?: DeadLetterRecord['status'];
  /** Only letters at least this old (seconds). */
  olderThan?: number;
  /** Only letters at most this old (seconds). */
  newerThan?: number;
}

export interface ListOptions {
  filter?: DeadLetterFilter;
  /** Letters per page. Default 50. */
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

export interface ListPage {
  items: DeadLetterRecord[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
}

/** A stored letter that cannot be read back (damaged, tampered with, or not sealed). */
export interface DamagedLetter {
  /** Its id, when the damage left it readable. */
  id?: string;
  reason: string;
}

/** Where letters are kept. Every backend passes the same contract tests. */
export interface DeadLetterBackend {
  readonly kind: string;
  /**
   * Set by the queue: told of each stored letter that cannot be read. Such a letter is
   * skipped by list, get and replay (never thrown for the whole queue) and left in place.
   */
  onDamaged?: (damage: DamagedLetter) => void;
  /** The largest letter this backend can store (bytes), when it has a limit of its own. */
  readonly maxMessageSize?: number;
  /** Stores a new letter; may return the queue's size after it (saves the alert check a round trip). */
  add(letter: DeadLetterRecord): Promise<number | undefined>;
  get(id: string): Promise<DeadLetterRecord | undefined>;
  /** Replaces a stored letter (replay bookkeeping). */
  update(letter: DeadLetterRecord): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** Oldest first. Unfiltered pages cost the same whatever the queue holds. */
  list(options: ListOptions, now: number): Promise<ListPage>;
  size(): Promise<number>;
  oldest(): Promise<DeadLetterRecord | undefined>;
  /** Deletes every letter created before `epochMs`; returns how many. */
  deleteOlderThan(epochMs: number): Promise<number>;
  purge(): Promise<number>;
  close(): Promise<void>;
}

export function matchesFilter(letter: DeadLetterRecord, filter: DeadLetterFilter | undefined, now: number): boolean {
  if (!filter) return true;
  if (filter.service !== undefined && letter.source.service !== filter.service) return false;
  if (filter.className !== undefined && letter.source.className !== filter.className) return false;
  if (filter.method !== undefined && letter.source.method !== filter.method) return false;
  if (filter.reason !== undefined && letter.reason !== filter.reason) return false;
  if (filter.status !== undefined && letter.status !== filter.status) return false;
  const age = (now - letter.createdAt) / 1000;
  if (filter.olderThan !== undefined && age < filter.olderThan) return false;
  if (filter.newerThan !== undefined && age > filter.newerThan) return false;
  return true;
}
