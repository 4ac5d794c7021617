import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { LetterCodec } from './codec.js';
import { FLAG_OFFSET, frame, type RecordFlag, unframe, unframeLegacy } from './file-frame.js';
import { acquireLock } from './file-lock.js';
import { type Op, recover, type SegmentFiles, segmentNames, segmentPath, syncDir } from './file-recovery.js';
import { OrderedIndex } from './ordered-index.js';
import {
  type DamagedLetter,
  type DeadLetterBackend,
  type DeadLetterRecord,
  type ListOptions,
  type ListPage,
  matchesFilter,
} from './types.js';

export interface FileBackendOptions {
  /** A directory, or a file path whose directory and name (without extension) name the log. */
  filePath: string;
  /** Bytes per log segment before a new one starts. Default 64 MiB. */
  segmentSize?: number;
  /** Copies a consistent snapshot of the log every `backupInterval` seconds. */
  backupEnabled?: boolean;
  backupInterval?: number;
  /** Snapshots kept. Default 3. */
  backupsKept?: number;
  codec?: LetterCodec;
  /** The queue whose letters the log holds: a letter of another queue found in it is refused. */
  queue?: string;
  /** Told of torn or damaged records skipped while reading the log. */
  onWarning?: (message: string) => void;
}

/** Where a letter's latest record is, plus what filters read, so bodies stay on disk. */
interface IndexEntry {
  segment: number;
  offset: number;
  length: number;
  createdAt: number;
  service?: string;
  className?: string;
  method?: string;
  reason: string;
  status: DeadLetterRecord['status'];
}

interface Pending {
  record: string;
  op: Op;
  letter?: DeadLetterRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A record that cannot be read back. */
class DamagedRecordError extends Error {}

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
  onDamaged?: (damage: DamagedLetter) => void;
  private readonly files: SegmentFiles;
  private readonly segmentSize: number;
  private readonly codec: LetterCodec;
  private readonly queueName?: string;
  private readonly warn: (message: string) => void;
  private readonly index = new OrderedIndex<IndexEntry>();
  private readonly releaseLock: () => void;
  private readonly readers = new Map<number, Promise<FileHandle>>();
  private readonly legacy: Set<number>;
  private writer?: FileHandle;
  private segment = 0;
  private segmentBytes = 0;
  private liveBytes = 0;
  private totalBytes = 0;
  private damagedRecords = 0;
  private queue: Pending[] = [];
  private writing?: Promise<void>;
  private backupTimer?: NodeJS.Timeout;
  private readonly backupsKept: number;
  private closed = false;
  private syncs = 0;

  constructor(options: FileBackendOptions) {
    const isFile = extname(options.filePath) !== '';
    const dir = isFile ? dirname(options.filePath) : options.filePath;
    this.files = { dir, base: isFile ? basename(options.filePath, extname(options.filePath)) : 'dlq' };
    this.segmentSize = options.segmentSize ?? 64 * 1024 * 1024;
    this.codec = options.codec ?? new LetterCodec();
    this.queueName = options.queue;
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, { code: 'NEST_RESILIENCE_DLQ' }));
    this.backupsKept = options.backupsKept ?? 3;
    mkdirSync(dir, { recursive: true });
    this.releaseLock = acquireLock(join(dir, `${this.files.base}.lock`));
    try {
      const recovered = recover(this.files, this.warn);
      this.legacy = recovered.legacy;
      this.damagedRecords = recovered.damaged.length;
      for (const r of recovered.records) {
        if (r.flag === 'D') this.forget(r.op.id);
        else this.applyOp(r.op, undefined, r.segment, r.offset, r.length);
      }
      // After a crash during compaction the log's order need not be id order; the index
      // (paging from a deleted cursor, retention) relies on id order.
      const entries = [...this.index.values()];
      if (entries.some(([id], i) => i > 0 && entries[i - 1][0] > id)) {
        this.index.clear();
        for (const [id, entry] of entries.sort(([a], [b]) => (a < b ? -1 : 1))) this.index.set(id, entry);
      }
      this.totalBytes = recovered.totalBytes;
      this.segment = recovered.lastSegment;
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

  async list({ filter, limit = 50, cursor }: ListOptions, now: number): Promise<ListPage> {
    const accept = (e: IndexEntry) =>
      matchesFilter(
        {
          source: { service: e.service, className: e.className, method: e.method },
          reason: e.reason,
          status: e.status,
          createdAt: e.createdAt,
        } as DeadLetterRecord,
        filter,
        now,
      );
    const { items, more } = this.index.page(cursor, limit, accept);
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
      for (const name of segmentNames(this.files)) rmSync(join(this.files.dir, name), { force: true });
      syncDir(this.files.dir);
      this.index.clear();
      this.segmentBytes = this.totalBytes = this.liveBytes = 0;
      return count;
    });
  }

  /**
   * Copies a consistent snapshot of the log (taken between two group commits) into a
   * folder beside it; returns the `filePath` that opens the copy.
   */
  async backup(): Promise<string> {
    return this.exclusive(async () => {
      const { dir, base } = this.files;
      const target = join(dir, `${base}-backup-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(target, { recursive: true });
      for (const name of segmentNames(this.files)) copyFileSync(join(dir, name), join(target, name));
      const backups = readdirSync(dir)
        .filter((n) => n.startsWith(`${base}-backup-`))
        .sort();
      for (const old of backups.slice(0, Math.max(0, backups.length - this.backupsKept))) {
        rmSync(join(dir, old), { recursive: true, force: true });
      }
      return join(target, `${base}.log`);
    });
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
        if (this.totalBytes > 1024 * 1024 && this.liveBytes * 2 < this.totalBytes) {
          await this.compact().catch((e) => this.warn(`dead-letter compaction failed: ${e}`));
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const buffer = Buffer.from(batch.map((p) => p.record).join(''));
    if (!this.writer || (this.segmentBytes > 0 && this.segmentBytes + buffer.length > this.segmentSize)) {
      await this.rotate();
    }
    const writer = this.writer as FileHandle;
    try {
      let written = 0;
      while (written < buffer.length) {
        const { bytesWritten } = await writer.write(
          buffer,
          written,
          buffer.length - written,
          this.segmentBytes + written,
        );
        written += bytesWritten;
      }
      await writer.datasync();
    } catch (error) {
      await this.cutBack(writer);
      throw error;
    }
    this.syncs++;
    let offset = this.segmentBytes;
    this.segmentBytes += buffer.length;
    this.totalBytes += buffer.length;
    const marks: { segment: number; offset: number; flag: RecordFlag }[] = [];
    for (const p of batch) {
      const length = Buffer.byteLength(p.record);
      const previous = this.index.get(p.op.id);
      if (previous && p.op.o !== 'a') marks.push({ ...previous, flag: p.op.o === 'd' ? 'D' : 'S' });
      this.applyOp(p.op, p.letter, this.segment, offset, length);
      offset += length;
      p.resolve();
    }
    if (marks.length > 0) await this.mark(marks);
  }

  /**
   * After a failed write, the bytes it left (a full disk writes part of a batch) are cut
   * off, so the next record starts where the log's last good record ends. If even that
   * fails, the segment is given up and the next write starts a new one.
   */
  private async cutBack(writer: FileHandle): Promise<void> {
    try {
      await writer.truncate(this.segmentBytes);
      await writer.datasync();
    } catch (error) {
      this.warn(
        `dead-letter log: could not cut a failed write back (${(error as Error).message}); starting a new segment`,
      );
      await writer.close().catch(() => undefined);
      this.writer = undefined;
    }
  }

  /** The in-place copy of deletes and supersessions: after the records themselves are durable. */
  private async mark(marks: { segment: number; offset: number; flag: RecordFlag }[]): Promise<void> {
    const bySegment = new Map<number, typeof marks>();
    for (const m of marks) {
      if (this.legacy.has(m.segment)) continue;
      bySegment.set(m.segment, [...(bySegment.get(m.segment) ?? []), m]);
    }
    for (const [segment, list] of bySegment) {
      const handle =
        segment === this.segment && this.writer ? this.writer : await open(segmentPath(this.files, segment), 'r+');
      try {
        for (const m of list) await handle.write(m.flag, m.offset + FLAG_OFFSET, 'latin1');
        await handle.datasync();
      } catch (error) {
        // The delete or update record is durable already: the mark is a second copy.
        this.warn(`dead-letter log: could not mark records in segment ${segment}: ${(error as Error).message}`);
      } finally {
        if (handle !== this.writer) await handle.close();
      }
    }
  }

  private async rotate(): Promise<void> {
    if (this.writer) {
      await this.writer.datasync();
      await this.writer.close();
    }
    this.segment++;
    // A fresh file opened for positional writes (never 'a': Linux would ignore the position).
    this.writer = await open(segmentPath(this.files, this.segment), 'wx+');
    this.segmentBytes = 0;
    syncDir(this.files.dir);
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
    const target = this.segment + 1;
    const path = segmentPath(this.files, target);
    const moved: [string, IndexEntry][] = [];
    const handle = await open(path, 'wx+');
    let offset = 0;
    try {
      for (const [id, entry] of this.index.values()) {
        const record = frame(JSON.stringify({ o: 'a', id, d: await this.readRaw(entry) }));
        const length = Buffer.byteLength(record);
        await handle.write(record, offset);
        moved.push([id, { ...entry, segment: target, offset, length }]);
        offset += length;
      }
      await handle.datasync();
    } catch (error) {
      await handle.close();
      rmSync(path, { force: true });
      throw error;
    }
    await handle.close();
    syncDir(this.files.dir);
    await this.closeFiles();
    for (const [id, entry] of moved) this.index.set(id, entry);
    for (const name of old) rmSync(join(this.files.dir, name), { force: true });
    syncDir(this.files.dir);
    this.legacy.clear();
    this.segment = target;
    this.writer = await open(path, 'r+');
    this.segmentBytes = this.totalBytes = this.liveBytes = offset;
  }

  private async closeFiles(): Promise<void> {
    await this.writer?.close();
    this.writer = undefined;
    for (const reader of this.readers.values()) await (await reader).close().catch(() => undefined);
    this.readers.clear();
  }

  private forget(id: string): void {
    const previous = this.index.get(id);
    if (previous) this.liveBytes -= previous.length;
    this.index.delete(id);
  }

  private applyOp(op: Op, letter: DeadLetterRecord | undefined, segment: number, offset: number, length: number): void {
    if (op.o === 'd') {
      this.forget(op.id);
      return;
    }
    // An update keeps the letter's place in the order (set replaces in place).
    const previous = this.index.get(op.id);
    if (previous) this.liveBytes -= previous.length;
    let l = letter;
    if (!l) {
      try {
        l = this.codec.decode(op.d);
      } catch {
        // A body that cannot be decoded (a key gone, tampering) is still kept and reported when read.
      }
    }
    this.index.set(op.id, {
      segment,
      offset,
      length,
      createdAt: l?.createdAt ?? 0,
      service: l?.source?.service,
      className: l?.source?.className,
      method: l?.source?.method,
      reason: l?.reason ?? 'damaged',
      status: l?.status ?? 'pending',
    });
    this.liveBytes += length;
  }

  // ---- reading ----

  /** A letter, or undefined (reported) when its record or body cannot be read. */
  private async readReporting(id: string, entry: IndexEntry): Promise<DeadLetterRecord | undefined> {
    try {
      return this.codec.decode(await this.readRaw(entry), { id, queue: this.queueName });
    } catch (error) {
      this.damagedRecords++;
      const reason = (error as Error).message;
      this.warn(`dead-letter ${id} cannot be read and is skipped: ${reason}`);
      this.onDamaged?.({ id, reason });
      return undefined;
    }
  }

  /** The encoded letter of the record an index entry points at. */
  private async readRaw(entry: IndexEntry): Promise<string> {
    let reader = this.readers.get(entry.segment);
    if (!reader) {
      reader = open(segmentPath(this.files, entry.segment), 'r');
      this.readers.set(entry.segment, reader);
    }
    const buffer = Buffer.alloc(entry.length);
    await (await reader).read(buffer, 0, entry.length, entry.offset);
    const json = this.legacy.has(entry.segment) ? unframeLegacy(buffer) : unframe(buffer);
    if (json === undefined) throw new DamagedRecordError('its record in the log fails its checksum');
    const op = JSON.parse(json) as { d?: unknown };
    if (typeof op.d !== 'string') throw new DamagedRecordError('its record in the log holds no letter');
    return op.d;
  }

  /** Bytes in the log (live and dead), for tests and metrics. */
  stats(): { segments: number; totalBytes: number; liveBytes: number; syncs: number; damagedRecords: number } {
    return {
      segments: segmentNames(this.files).length,
      totalBytes: this.totalBytes,
      liveBytes: this.liveBytes,
      syncs: this.syncs,
      damagedRecords: this.damagedRecords,
    };
  }
}
