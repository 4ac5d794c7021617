import { type FileHandle, open } from 'node:fs/promises';
import { FLAG_OFFSET, type RecordFlag } from './file-frame.js';
import { type SegmentFiles, segmentPath, syncDir } from './file-recovery.js';

/** Where a write put its bytes. */
export interface Written {
  segment: number;
  offset: number;
}

/** A status byte to set on a record already in the log. */
export interface RecordMark {
  segment: number;
  offset: number;
  flag: RecordFlag;
}

/**
 * The write end of a segmented log: positional writes at the end of the current segment,
 * each made durable (fdatasync) before it counts, a new segment past `segmentSize`.
 * A failed write (a full disk writes part of a batch) is cut back off, so the next one
 * starts where the last good record ends. Not safe for concurrent use: the backend's
 * group commit calls it one batch at a time.
 */
export class SegmentWriter {
  private handle?: FileHandle;
  private bytes = 0;
  private syncCount = 0;

  constructor(
    private readonly files: SegmentFiles,
    private readonly segmentSize: number,
    private readonly legacy: ReadonlySet<number>,
    private readonly warn: (message: string) => void,
    private current: number,
  ) {}

  /** The segment being written (0 before the first write of an empty log). */
  get segment(): number {
    return this.current;
  }

  get syncs(): number {
    return this.syncCount;
  }

  /** Writes `buffer` durably at the end of the log; rejects with nothing of it counted. */
  async write(buffer: Buffer): Promise<Written> {
    if (!this.handle || (this.bytes > 0 && this.bytes + buffer.length > this.segmentSize)) await this.rotate();
    const handle = this.handle as FileHandle;
    try {
      let written = 0;
      while (written < buffer.length) {
        const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, this.bytes + written);
        written += bytesWritten;
      }
      await handle.datasync();
    } catch (error) {
      await this.cutBack(handle);
      throw error;
    }
    this.syncCount++;
    const offset = this.bytes;
    this.bytes += buffer.length;
    return { segment: this.current, offset };
  }

  /**
   * Sets status bytes in place (a second copy of deletes and supersessions, written after
   * the records that say so are durable: a failure here is only warned about).
   */
  async mark(marks: RecordMark[]): Promise<void> {
    const bySegment = new Map<number, RecordMark[]>();
    for (const m of marks) {
      if (this.legacy.has(m.segment)) continue;
      const list = bySegment.get(m.segment);
      if (list) list.push(m);
      else bySegment.set(m.segment, [m]);
    }
    for (const [segment, list] of bySegment) {
      const own = segment === this.current ? this.handle : undefined;
      const handle = own ?? (await open(segmentPath(this.files, segment), 'r+'));
      try {
        for (const m of list) await handle.write(m.flag, m.offset + FLAG_OFFSET, 'latin1');
        await handle.datasync();
      } catch (error) {
        this.warn(`dead-letter log: could not mark records in segment ${segment}: ${(error as Error).message}`);
      } finally {
        if (handle !== own) await handle.close();
      }
    }
  }

  /** Continues in `segment`, which already holds `bytes` durable bytes (after compaction). */
  async adopt(segment: number, bytes: number): Promise<void> {
    await this.close();
    this.current = segment;
    this.handle = await open(segmentPath(this.files, segment), 'r+');
    this.bytes = bytes;
  }

  /** Forgets the current segment (its file was removed); the next write starts a new one. */
  async reset(): Promise<void> {
    await this.close();
    this.bytes = 0;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private async cutBack(handle: FileHandle): Promise<void> {
    try {
      await handle.truncate(this.bytes);
      await handle.datasync();
    } catch (error) {
      // Even that failed: give the segment up; the next write starts a new one.
      this.warn(
        `dead-letter log: could not cut a failed write back (${(error as Error).message}); starting a new segment`,
      );
      await handle.close().catch(() => undefined);
      this.handle = undefined;
    }
  }

  private async rotate(): Promise<void> {
    if (this.handle) {
      await this.handle.datasync();
      await this.handle.close();
    }
    this.current++;
    // A fresh file opened for positional writes (never 'a': Linux would ignore the position).
    this.handle = await open(segmentPath(this.files, this.current), 'wx+');
    this.bytes = 0;
    syncDir(this.files.dir);
  }
}
