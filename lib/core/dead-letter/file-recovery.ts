import { closeSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RS, type ScannedRecord, scan, scanLegacy } from './file-frame.js';

/** An operation of the log: add, update (a whole new body), delete. */
export type Op = { o: 'a' | 'u'; id: string; d: string } | { o: 'd'; id: string };

export interface SegmentFiles {
  dir: string;
  base: string;
}

export function segmentNames({ dir, base }: SegmentFiles): string[] {
  const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d{6}\\.log$`);
  return readdirSync(dir)
    .filter((n) => pattern.test(n))
    .sort();
}

export function segmentNumber({ base }: SegmentFiles, name: string): number {
  return Number(name.slice(base.length + 1, -4));
}

export function segmentPath({ dir, base }: SegmentFiles, segment: number): string {
  return join(dir, `${base}.${String(segment).padStart(6, '0')}.log`);
}

/** Makes a created or removed segment file itself durable. */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // Some filesystems refuse to sync a directory; the data itself was synced.
  }
}

export interface RecoveredRecord extends ScannedRecord {
  segment: number;
  op: Op;
}

export interface Recovery {
  /** Every readable record, in log order. */
  records: RecoveredRecord[];
  /** Segments in the format of 0.1.0 (no RS, no flag byte). */
  legacy: Set<number>;
  /** Bytes of every segment after the torn tail was cut. */
  totalBytes: number;
  /** The highest segment number (0 when there is none). */
  lastSegment: number;
  /** Byte ranges that held no readable record, for the damage report. */
  damaged: { segment: number; offset: number; length: number }[];
}

function parseOp(json: string): Op | undefined {
  try {
    const op = JSON.parse(json) as Op;
    if (typeof op?.id !== 'string') return undefined;
    if (op.o === 'd' || ((op.o === 'a' || op.o === 'u') && typeof op.d === 'string')) return op;
  } catch {
    // The checksum held but the JSON does not: treated as damage.
  }
  return undefined;
}

/**
 * Reads every segment at start-up. A torn last record (a crash during a write) is cut off
 * the last segment with a warning; damage elsewhere is reported and skipped, and costs
 * only the records it touched.
 */
export function recover(files: SegmentFiles, warn: (message: string) => void): Recovery {
  const names = segmentNames(files);
  const recovery: Recovery = { records: [], legacy: new Set(), totalBytes: 0, lastSegment: 0, damaged: [] };
  for (const [i, name] of names.entries()) {
    const segment = segmentNumber(files, name);
    const path = join(files.dir, name);
    const data = readFileSync(path);
    const legacy = data.length > 0 && data[0] !== RS;
    if (legacy) recovery.legacy.add(segment);
    const scanned = legacy ? scanLegacy(data) : scan(data);
    for (const record of scanned.records) {
      const op = parseOp(record.json);
      if (op) recovery.records.push({ ...record, segment, op });
      else recovery.damaged.push({ segment, offset: record.offset, length: record.length });
    }
    for (const range of scanned.damaged) recovery.damaged.push({ segment, ...range });
    let size = data.length;
    if (scanned.tornAt !== undefined) {
      const lost = data.length - scanned.tornAt;
      if (i === names.length - 1) {
        warn(`dead-letter log ${name}: torn last record (${lost} bytes) cut off after a crash`);
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, scanned.tornAt);
        fsyncSync(fd);
        closeSync(fd);
        size = scanned.tornAt;
      } else {
        recovery.damaged.push({ segment, offset: scanned.tornAt, length: lost });
      }
    }
    recovery.totalBytes += size;
    recovery.lastSegment = Math.max(recovery.lastSegment, segment);
  }
  for (const d of recovery.damaged) {
    warn(
      `dead-letter log ${files.base}.${String(d.segment).padStart(6, '0')}.log: ${d.length} damaged bytes at ${d.offset} skipped`,
    );
  }
  return recovery;
}
