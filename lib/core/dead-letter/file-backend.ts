import {
  closeSync,
  copyFileSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { LetterCodec } from './codec.js';
import { acquireLock } from './file-lock.js';
import { OrderedIndex } from './ordered-index.js';
import {
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
  /** Told of torn or corrupt records skipped while reading the log. */
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
  id?: string;
  /** Applies the record to the index once it is durable; gets the record's place. */
  apply: (segment: number, offset: number, length: number) => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

type Op = { o: 'a' | 'u'; id: string; d: string } | { o: 'd'; id: string };

/**
 * Dead letters in an append-only log of segments, one JSON record per line behind a
 * CRC-32. Every add is durable (fdatasync) before it resolves, and concurrent adds share
 * one write and one sync (group commit). A torn last record after a crash is cut off
 * with a warning; a corrupt record elsewhere is skipped with a warning; the rest is read.
 * Deletes and retention append records; the log is compacted when most of it is dead.
 * Memory holds an index, not the letters' bodies. One writer per log (a lock file).
 */
export class FileDeadLetterBackend implements DeadLetterBackend {
  readonly kind = 'file';
  private readonly dir: string;
  private readonly base: string;
  private readonly segmentSize: number;
  private readonly codec: LetterCodec;
  private readonly warn: (message: string) => void;
  private readonly index = new OrderedIndex<IndexEntry>();
  private readonly releaseLock: () => void;
  private readonly readers = new Map<number, Promise<FileHandle>>();
  private writer?: FileHandle;
  private segment = 0;
  private segmentBytes = 0;
  private liveBytes = 0;
  private totalBytes = 0;
  private queue: Pending[] = [];
  private writing?: Promise<void>;
  private backupTimer?: NodeJS.Timeout;
  private readonly backupsKept: number;
  private closed = false;
  private syncs = 0;

  constructor(options: FileBackendOptions) {
    const isFile = extname(options.filePath) !== '';
    this.dir = isFile ? dirname(options.filePath) : options.filePath;
    this.base = isFile ? basename(options.filePath, extname(options.filePath)) : 'dlq';
    this.segmentSize = options.segmentSize ?? 64 * 1024 * 1024;
    this.codec = options.codec ?? new LetterCodec();
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, { code: 'NEST_RESILIENCE_DLQ' }));
    this.backupsKept = options.backupsKept ?? 3;
    mkdirSync(this.dir, { recursive: true });
    this.releaseLock = acquireLock(join(this.dir, `${this.base}.lock`));
    try {
      this.recover();
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
    return entry ? this.read(entry) : undefined;
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
    const letters = await Promise.all(items.map(([, entry]) => this.read(entry)));
    return more ? { items: letters, next: items[items.length - 1][0] } : { items: letters };
  }

  async size(): Promise<number> {
    return this.index.size;
  }

  async oldest(): Promise<DeadLetterRecord | undefined> {
    const first = this.index.first();
    return first ? this.read(first[1]) : undefined;
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
      await this.writer?.close();
      this.writer = undefined;
      for (const reader of this.readers.values()) await (await reader).close();
      this.readers.clear();
      for (const name of this.segmentNames()) rmSync(join(this.dir, name), { force: true });
      this.syncDir();
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
      const target = join(this.dir, `${this.base}-backup-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(target, { recursive: true });
      for (const name of this.segmentNames()) copyFileSync(join(this.dir, name), join(target, name));
      const backups = readdirSync(this.dir)
        .filter((n) => n.startsWith(`${this.base}-backup-`))
        .sort();
      for (const old of backups.slice(0, Math.max(0, backups.length - this.backupsKept))) {
        rmSync(join(this.dir, old), { recursive: true, force: true });
      }
      return join(target, `${this.base}.log`);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.backupTimer) clearInterval(this.backupTimer);
    await this.writing;
    await this.writer?.close();
    for (const reader of this.readers.values()) await (await reader).close();
    this.readers.clear();
    this.releaseLock();
  }

  // ---- writing ----

  private append(op: Op, letter?: DeadLetterRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('dead-letter file backend is closed'));
    const json = JSON.stringify(op);
    const record = `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        record,
        resolve,
        reject,
        apply: (segment, offset, length) => this.applyOp(op, letter, segment, offset, length),
      });
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
    const bytes = batch.reduce((n, p) => n + Buffer.byteLength(p.record), 0);
    if (!this.writer || (this.segmentBytes > 0 && this.segmentBytes + bytes > this.segmentSize)) await this.rotate();
    const writer = this.writer as FileHandle;
    const buffer = Buffer.from(batch.map((p) => p.record).join(''));
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
    this.syncs++;
    let offset = this.segmentBytes;
    this.segmentBytes += buffer.length;
    this.totalBytes += buffer.length;
    for (const p of batch) {
      const length = Buffer.byteLength(p.record);
      p.apply(this.segment, offset, length);
      offset += length;
      p.resolve();
    }
  }

  private async rotate(): Promise<void> {
    if (this.writer) {
      await this.writer.datasync();
      await this.writer.close();
    }
    this.segment++;
    this.writer = await open(this.segmentPath(this.segment), 'a+');
    this.segmentBytes = (await this.writer.stat()).size;
    this.syncDir();
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

  /** Rewrites the live letters into fresh segments, then removes the old ones. */
  private async compact(): Promise<void> {
    const old = this.segmentNames();
    const records: { id: string; record: string; entry: IndexEntry }[] = [];
    const target = this.segment + 1;
    const path = this.segmentPath(target);
    const handle = await open(path, 'w');
    let offset = 0;
    try {
      for (const [id, entry] of this.index.values()) {
        const json = JSON.stringify({ o: 'a', id, d: await this.readRaw(entry) });
        const record = `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
        await handle.write(record, offset);
        records.push({ id, record, entry });
        offset += Buffer.byteLength(record);
      }
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.syncDir();
    // The new segment is durable: from here on, recovery reads it after the old ones.
    await this.writer?.close();
    for (const reader of this.readers.values()) await (await reader).close();
    this.readers.clear();
    let position = 0;
    for (const { id, record, entry } of records) {
      const length = Buffer.byteLength(record);
      this.index.set(id, { ...entry, segment: target, offset: position, length });
      position += length;
    }
    for (const name of old) rmSync(join(this.dir, name), { force: true });
    this.syncDir();
    this.segment = target;
    this.writer = await open(path, 'a+');
    this.segmentBytes = offset;
    this.totalBytes = offset;
    this.liveBytes = offset;
  }

  private applyOp(op: Op, letter: DeadLetterRecord | undefined, segment: number, offset: number, length: number): void {
    const previous = this.index.get(op.id);
    if (previous) this.liveBytes -= previous.length;
    if (op.o === 'd') {
      this.index.delete(op.id);
      return;
    }
    const l = letter ?? this.codec.decode(op.d);
    this.index.set(op.id, {
      segment,
      offset,
      length,
      createdAt: l.createdAt,
      service: l.source.service,
      className: l.source.className,
      method: l.source.method,
      reason: l.reason,
      status: l.status,
    });
    this.liveBytes += length;
  }

  // ---- reading ----

  private async read(entry: IndexEntry): Promise<DeadLetterRecord> {
    return this.codec.decode(await this.readRaw(entry));
  }

  /** The encoded letter of the record an index entry points at. */
  private async readRaw(entry: IndexEntry): Promise<string> {
    let reader = this.readers.get(entry.segment);
    if (!reader) {
      reader = open(this.segmentPath(entry.segment), 'r');
      this.readers.set(entry.segment, reader);
    }
    const buffer = Buffer.alloc(entry.length);
    await (await reader).read(buffer, 0, entry.length, entry.offset);
    const line = buffer.toString('utf8');
    const op = JSON.parse(line.slice(9, -1)) as { d: string };
    return op.d;
  }

  /** Reads every segment at start-up, cutting off a torn tail and skipping corrupt records. */
  private recover(): void {
    const names = this.segmentNames();
    for (const [i, name] of names.entries()) {
      const segment = Number(name.slice(this.base.length + 1, -4));
      const path = join(this.dir, name);
      const data = readFileSync(path);
      let offset = 0;
      let good = 0;
      while (offset < data.length) {
        const end = data.indexOf(10, offset);
        const last = i === names.length - 1;
        if (end === -1) {
          if (last) {
            this.warn(
              `dead-letter log ${name}: torn last record (${data.length - offset} bytes) cut off after a crash`,
            );
          } else {
            this.warn(`dead-letter log ${name}: unterminated record at ${offset} skipped`);
          }
          break;
        }
        const line = data.subarray(offset, end).toString('utf8');
        const op = this.parse(line);
        if (op) {
          this.applyOp(op, undefined, segment, offset, end + 1 - offset);
          good = end + 1;
        } else if (last && data.indexOf(10, end + 1) === -1) {
          this.warn(`dead-letter log ${name}: torn last record at ${offset} cut off after a crash`);
          break;
        } else {
          this.warn(`dead-letter log ${name}: corrupt record at ${offset} skipped`);
          good = end + 1;
        }
        offset = end + 1;
      }
      this.totalBytes += data.length;
      if (i === names.length - 1 && good < data.length) {
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, good);
        fsyncSync(fd);
        closeSync(fd);
        this.totalBytes -= data.length - good;
      }
      this.segment = Math.max(this.segment, segment);
    }
  }

  private parse(line: string): Op | undefined {
    if (line.length < 10 || line[8] !== ' ') return undefined;
    const json = line.slice(9);
    if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
    try {
      return JSON.parse(json) as Op;
    } catch {
      return undefined;
    }
  }

  private segmentNames(): string[] {
    const pattern = new RegExp(`^${this.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d{6}\\.log$`);
    return readdirSync(this.dir)
      .filter((n) => pattern.test(n))
      .sort();
  }

  private segmentPath(segment: number): string {
    return join(this.dir, `${this.base}.${String(segment).padStart(6, '0')}.log`);
  }

  /** Makes a created or removed segment file itself durable. */
  private syncDir(): void {
    try {
      const fd = openSync(this.dir, 'r');
      fsyncSync(fd);
      closeSync(fd);
    } catch {
      // Some filesystems refuse to sync a directory; the data itself was synced.
    }
  }

  /** Bytes in the log (live and dead), for tests and metrics. */
  stats(): { segments: number; totalBytes: number; liveBytes: number; syncs: number } {
    return {
      segments: this.segmentNames().length,
      totalBytes: this.totalBytes,
      liveBytes: this.liveBytes,
      syncs: this.syncs,
    };
  }
}
