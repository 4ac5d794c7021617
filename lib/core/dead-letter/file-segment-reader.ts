import { type FileHandle, open } from 'node:fs/promises';
import { unframe, unframeLegacy } from './file-frame.js';
import { type SegmentFiles, segmentPath } from './file-recovery.js';

/** A record that cannot be read back. */
export class DamagedRecordError extends Error {}

/** Where a record is in the log. */
export interface RecordLocation {
  segment: number;
  offset: number;
  length: number;
}

/** Reads records by location, one open descriptor per segment. */
export class SegmentReader {
  private readonly handles = new Map<number, Promise<FileHandle>>();

  constructor(
    private readonly files: SegmentFiles,
    private readonly legacy: ReadonlySet<number>,
  ) {}

  /** The encoded letter of the record at `at`; throws DamagedRecordError if it is not intact. */
  async letterAt(at: RecordLocation): Promise<string> {
    let handle = this.handles.get(at.segment);
    if (!handle) {
      handle = open(segmentPath(this.files, at.segment), 'r');
      this.handles.set(at.segment, handle);
    }
    const buffer = Buffer.alloc(at.length);
    await (await handle).read(buffer, 0, at.length, at.offset);
    const json = this.legacy.has(at.segment) ? unframeLegacy(buffer) : unframe(buffer);
    if (json === undefined) throw new DamagedRecordError('its record in the log fails its checksum');
    const op = JSON.parse(json) as { d?: unknown };
    if (typeof op.d !== 'string') throw new DamagedRecordError('its record in the log holds no letter');
    return op.d;
  }

  async close(): Promise<void> {
    for (const handle of this.handles.values()) await (await handle).close().catch(() => undefined);
    this.handles.clear();
  }
}
