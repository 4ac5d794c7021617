import type { LetterCodec } from './codec.js';
import type { Op } from './file-recovery.js';
import type { RecordLocation } from './file-segment-reader.js';
import { OrderedIndex } from './ordered-index.js';
import { type DeadLetterRecord, type ListOptions, matchesFilter } from './types.js';

/** Where a letter's latest record is, plus what filters read, so bodies stay on disk. */
export interface IndexEntry extends RecordLocation {
  createdAt: number;
  service?: string;
  className?: string;
  method?: string;
  reason: string;
  status: DeadLetterRecord['status'];
}

/** The file log's index: letters by id in id order, and the bytes their latest records take. */
export class LogIndex extends OrderedIndex<IndexEntry> {
  /** Bytes of the records the index points at (the rest of the log is dead). */
  liveBytes = 0;

  constructor(private readonly codec: LetterCodec) {
    super();
  }

  forget(id: string): void {
    const previous = this.get(id);
    if (previous) this.liveBytes -= previous.length;
    this.delete(id);
  }

  /** Applies an operation found at `at` (its letter given when known, else decoded from the op). */
  apply(op: Op, letter: DeadLetterRecord | undefined, at: RecordLocation): void {
    if (op.o === 'd') {
      this.forget(op.id);
      return;
    }
    // An update keeps the letter's place in the order (set replaces in place).
    const previous = this.get(op.id);
    if (previous) this.liveBytes -= previous.length;
    let l = letter;
    if (!l) {
      try {
        l = this.codec.decode(op.d);
      } catch {
        // A body that cannot be decoded (a key gone, tampering) is still kept and reported when read.
      }
    }
    this.set(op.id, {
      segment: at.segment,
      offset: at.offset,
      length: at.length,
      createdAt: l?.createdAt ?? 0,
      service: l?.source?.service,
      className: l?.source?.className,
      method: l?.source?.method,
      reason: l?.reason ?? 'damaged',
      status: l?.status ?? 'pending',
    });
    this.liveBytes += at.length;
  }

  /**
   * After a crash during compaction the log's order need not be id order; paging from a
   * deleted cursor and retention rely on id order.
   */
  sortById(): void {
    const entries = [...this.values()];
    if (!entries.some(([id], i) => i > 0 && (entries[i - 1] as [string, IndexEntry])[0] > id)) return;
    this.clear();
    for (const [id, entry] of entries.sort(([a], [b]) => (a < b ? -1 : 1))) this.set(id, entry);
  }

  /** A page of entries matching `filter`, read from the index alone. */
  pageOf({ filter, limit = 50, cursor }: ListOptions, now: number) {
    return this.page(cursor, limit, (e) =>
      matchesFilter(
        {
          source: { service: e.service, className: e.className, method: e.method },
          reason: e.reason,
          status: e.status,
          createdAt: e.createdAt,
        } as DeadLetterRecord,
        filter,
        now,
      ),
    );
  }
}
