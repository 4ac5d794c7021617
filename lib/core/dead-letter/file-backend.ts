import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { LetterCodec } from './codec.js';
import type { FileBackendOptions, Pending } from './file-backend-options.js';
import { frame } from './file-frame.js';
import { acquireLock } from './file-lock.js';
import { type IndexEntry, LogIndex } from './file-log-index.js';
import { copyLive, removeSegments, snapshot } from './file-maintenance.js';
import { type Op, recover, type SegmentFiles, segmentNames, syncDir } from './file-recovery.js';
import { SegmentReader } from './file-segment-reader.js';
import { type RecordMark, SegmentWriter } from './file-segment-writer.js';
import {
  type DamagedLetter,
  type DeadLetterBackend,
  type DeadLetterRecord,
  type ListOptions,
  type ListPage,
} from './types.js';

export type { FileBackendOptions } from './file-backend-options.js';

/**
 * Dead letters in an append-only log of segments (record format: file-frame.ts). Every
 * add is durable (fdatasync) before it resolves, and concurrent adds share one write and
 * one sync (group commit). A failed write (a full disk) is cut off again before the next
 * one, so a later record never lands behind garbage. Deletes append a record and also
 * mark the deleted record in place. Damage costs only the records it touches: it is
 * reported, skipped, and never stops the rest of the queue. The log is compacted when
 * most of it is dead. Memory holds an index, not the letters' bodies. One writer per log.
 */
export class FileDeadLetterBackend implements DeadLetterBackend {
  readonly kind = 'file';
  private damageListener?: (damage: DamagedLetter) => void;
  /** Damage found while opening the log, before anyone could listen. */
  private unreported: DamagedLetter[] = [];
  private readonly files: SegmentFiles;
  private readonly codec: LetterCodec;
  private readonly queueName?: string;
  private readonly warn: (message: string) => void;
  private readonly index: LogIndex;
  private readonly releaseLock: () => void;
  private readonly legacy: Set<number>;
  private readonly writer: SegmentWriter;
  private readonly reader: SegmentReader;
  private totalBytes = 0;
  private damagedRecords = 0;
  private queue: Pending[] = [];
  private writing?: Promise<void>;
  private backupTimer?: NodeJS.Timeout;
  private readonly backupsKept: number;
  private closed = false;

  constructor(options: FileBackendOptions) {
    const isFile = extname(options.filePath) !== '';
    const dir = isFile ? dirname(options.filePath) : options.filePath;
    this.files = { dir, base: isFile ? basename(options.filePath, extname(options.filePath)) : 'dlq' };
    this.codec = options.codec ?? new LetterCodec();
    this.index = new LogIndex(this.codec);
    this.queueName = options.queue;
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, { code: 'NEST_RESILIENCE_DLQ' }));
    this.backupsKept = options.backupsKept ?? 3;
    mkdirSync(dir, { recursive: true });
    this.releaseLock = acquireLock(join(dir, `${this.files.base}.lock`));
    try {
      const recovered = recover(this.files, this.warn);
      this.legacy = recovered.legacy;
      this.damagedRecords = recovered.damaged.length;
      this.unreported = recovered.damaged.map((d) => ({
        reason: `${d.length} damaged bytes at ${d.offset} of segment ${d.segment} skipped`,
      }));
      for (const r of recovered.records) {
        if (r.flag === 'D') this.index.forget(r.op.id);
        else this.index.apply(r.op, undefined, r);
      }
      this.index.sortById();
      this.totalBytes = recovered.totalBytes;
      const segmentSize = options.segmentSize ?? 64 * 1024 * 1024;
      this.writer = new SegmentWriter(this.files, segmentSize, this.legacy, this.warn, recovered.lastSegment);
      this.reader = new SegmentReader(this.files, this.legacy);
    } catch (error) {
      this.releaseLock();
      throw error;
    }
    if (options.backupEnabled) {
      const every = (options.backupInterval ?? 3600) * 1000;
      this.backupTimer = setInterval(
        () => void this.backup().catch((e) => this.warn(`dead-letter backup failed: ${e}`)),
        every,
      );
      this.backupTimer.unref();
    }
  }

  /** Told of every letter found unreadable, including damage found while the log opened. */
  get onDamaged(): ((damage: DamagedLetter) => void) | undefined {
    return this.damageListener;
  }

  set onDamaged(listener: ((damage: DamagedLetter) => void) | undefined) {
    this.damageListener = listener;
    if (!listener || this.unreported.length === 0) return;
    const found = this.unreported;
    this.unreported = [];
    // After the current turn: whoever set the listener has subscribed to its own events.
    queueMicrotask(() => {
      for (const damage of found) this.damageListener?.(damage);
    });
  }

  async add(letter: DeadLetterRecord): Promise<number> {
    if (this.index.has(letter.id)) throw new Error(`dead letter ${letter.id} already exists`);
    await this.append({ o: 'a', id: letter.id, d: this.codec.encode(letter) }, letter);
    return this.index.size;
  }

  async update(letter: DeadLetterRecord): Promise<void> {
    if (!this.index.has(letter.id)) throw new Error(`dead letter ${letter.id} does not exist`);
    await this.append({ o: 'u', id: letter.id, d: this.codec.encode(letter) }, letter);
  }

  async delete(id: string): Promise<boolean> {
    if (!this.index.has(id)) return false;
    await this.append({ o: 'd', id });
    return true;
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    const entry = this.index.get(id);
    return entry ? this.readReporting(id, entry) : undefined;
  }

  async list(options: ListOptions, now: number): Promise<ListPage> {
    const { items, more } = this.index.pageOf(options, now);
    const read = await Promise.all(items.map(([id, entry]) => this.readReporting(id, entry)));
    const letters = read.filter((l): l is DeadLetterRecord => l !== undefined);
    return more ? { items: letters, next: items[items.length - 1][0] } : { items: letters };
  }

  async size(): Promise<number> {
    return this.index.size;
  }

  async oldest(): Promise<DeadLetterRecord | undefined> {
    for (const [id, entry] of this.index.values()) {
      const letter = await this.readReporting(id, entry);
      if (letter) return letter;
    }
    return undefined;
  }

  async deleteOlderThan(epochMs: number): Promise<number> {
    const ids: string[] = [];
    for (const [id, entry] of this.index.values()) {
      if (entry.createdAt >= epochMs) break;
      ids.push(id);
    }
    await Promise.all(ids.map((id) => this.append({ o: 'd', id })));
    return ids.length;
  }

  /** Removes every letter by removing the log itself (a crash midway leaves letters, never loses them). */
  async purge(): Promise<number> {
    return this.exclusive(async () => {
      const count = this.index.size;
      await this.closeFiles();
      await this.writer.reset();
      for (const name of segmentNames(this.files)) rmSync(join(this.files.dir, name), { force: true });
      syncDir(this.files.dir);
      this.index.clear();
      this.totalBytes = this.index.liveBytes = 0;
      return count;
    });
  }

  /**
   * Copies a consistent snapshot of the log (taken between two group commits) into a
   * folder beside it; returns the `filePath` that opens the copy.
   */
  async backup(): Promise<string> {
    return this.exclusive(async () => snapshot(this.files, this.backupsKept));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.backupTimer) clearInterval(this.backupTimer);
    await this.writing;
    await this.closeFiles();
    this.releaseLock();
  }

  // ---- writing ----

  private append(op: Op, letter?: DeadLetterRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('dead-letter file backend is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record: frame(JSON.stringify(op)), op, letter, resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  /** Group commit: everything queued meanwhile goes in one write and one fdatasync. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.commit(batch);
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
        if (this.totalBytes > 1024 * 1024 && this.index.liveBytes * 2 < this.totalBytes) {
          await this.compact().catch((e) => this.warn(`dead-letter compaction failed: ${e}`));
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const buffer = Buffer.from(batch.map((p) => p.record).join(''));
    const at = await this.writer.write(buffer);
    this.totalBytes += buffer.length;
    let offset = at.offset;
    const marks: RecordMark[] = [];
    for (const p of batch) {
      const length = Buffer.byteLength(p.record);
      const previous = this.index.get(p.op.id);
      if (previous && p.op.o !== 'a') marks.push({ ...previous, flag: p.op.o === 'd' ? 'D' : 'S' });
      this.index.apply(p.op, p.letter, { segment: at.segment, offset, length });
      offset += length;
      p.resolve();
    }
    if (marks.length > 0) await this.writer.mark(marks);
  }

  /** Runs `work` between two group commits, with nothing else writing. */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.writing) await this.writing;
    let release!: () => void;
    this.writing = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      return await work();
    } finally {
      this.writing = undefined;
      release();
      if (this.queue.length > 0 && !this.writing) this.writing = this.drain();
    }
  }

  /**
   * Rewrites the live letters into a fresh segment; only once it is durable, and the
   * directory entry with it, are the old segments removed. A letter whose record cannot
   * be read is left where it is: compaction then stops, so no old segment is removed.
   */
  private async compact(): Promise<void> {
    const old = segmentNames(this.files);
    const target = this.writer.segment + 1;
    const { moved, bytes } = await copyLive(this.files, target, this.index.values(), this.reader);
    await this.closeFiles();
    for (const [id, entry] of moved) this.index.set(id, entry);
    removeSegments(this.files, old);
    this.legacy.clear();
    await this.writer.adopt(target, bytes);
    this.totalBytes = this.index.liveBytes = bytes;
  }

  private async closeFiles(): Promise<void> {
    await this.writer.close();
    await this.reader.close();
  }

  // ---- reading ----

  /** A letter, or undefined (reported) when its record or body cannot be read. */
  private async readReporting(id: string, entry: IndexEntry): Promise<DeadLetterRecord | undefined> {
    try {
      return this.codec.decode(await this.reader.letterAt(entry), { id, queue: this.queueName });
    } catch (error) {
      this.damagedRecords++;
      const reason = (error as Error).message;
      this.warn(`dead-letter ${id} cannot be read and is skipped: ${reason}`);
      this.onDamaged?.({ id, reason });
      return undefined;
    }
  }

  /** Bytes in the log (live and dead), for tests and metrics. */
  stats(): { segments: number; totalBytes: number; liveBytes: number; syncs: number; damagedRecords: number } {
    const { totalBytes, damagedRecords } = this;
    const segments = segmentNames(this.files).length;
    return { segments, totalBytes, liveBytes: this.index.liveBytes, syncs: this.writer.syncs, damagedRecords };
  }
}
