import { crc32 } from 'node:zlib';

/**
 * The file log's record format, in one place.
 *
 *   RS  flag  crc32(json) as 8 hex digits  ' '  json  '\n'
 *
 * RS (0x1E) starts every record. JSON.stringify escapes every control character, so RS
 * and '\n' never occur inside a record: after damage, the next RS is the next record,
 * and the damage costs only the records it touches. The flag byte is outside the CRC so
 * it can be rewritten in place: a deleted letter is marked on its own record as well as
 * by a delete record, so losing either one never brings the letter back.
 */
export const RS = 0x1e;
const NL = 0x0a;
const HEADER = 11; // RS, flag, 8 hex digits, space

export type RecordFlag = 'L' | 'D' | 'S';
/** Live; Deleted (the letter is gone); Superseded (a later record of the same letter exists). */
export const FLAG_OFFSET = 1;

export function frame(json: string, flag: RecordFlag = 'L'): string {
  return `\x1e${flag}${checksum(json)} ${json}\n`;
}

function checksum(json: string | Buffer): string {
  return crc32(json).toString(16).padStart(8, '0');
}

function validAt(data: Buffer, start: number, jsonEnd: number): string | undefined {
  if (jsonEnd <= start + HEADER || data[start + HEADER - 1] !== 0x20) return undefined;
  const json = data.subarray(start + HEADER, jsonEnd);
  if (checksum(json) !== data.toString('latin1', start + 2, start + 10)) return undefined;
  return json.toString('utf8');
}

/**
 * The JSON of one whole record (as an index entry points at it), or undefined if damaged.
 * Its RS and newline are not checked: scan() accepts a record whose RS or newline was
 * overwritten, and the checksum covers the JSON itself.
 */
export function unframe(record: Buffer): string | undefined {
  if (record.length < HEADER + 2) return undefined;
  return validAt(record, 0, record.length - 1);
}

export interface ScannedRecord {
  offset: number;
  length: number;
  flag: RecordFlag;
  json: string;
}

export interface ScanResult {
  records: ScannedRecord[];
  /** Byte ranges that held no readable record. */
  damaged: { offset: number; length: number }[];
  /** Where an unreadable last record starts (a write torn by a crash), if there is one. */
  tornAt?: number;
}

function flagOf(byte: number): RecordFlag {
  return byte === 0x44 ? 'D' : byte === 0x53 ? 'S' : 'L';
}

/**
 * Reads every record of a segment. A region between two RS bytes that does not check is
 * tried as a record whose newline or RS was overwritten before it is given up as damaged.
 */
export function scan(data: Buffer): ScanResult {
  const result: ScanResult = { records: [], damaged: [] };
  let start = data.indexOf(RS);
  if (start > 0) result.damaged.push({ offset: 0, length: start });
  if (start === -1) {
    if (data.length > 0) result.tornAt = 0;
    return result;
  }
  while (start !== -1 && start < data.length) {
    const next = data.indexOf(RS, start + 1);
    const end = next === -1 ? data.length : next;
    const found = readRegion(data, start, end);
    result.records.push(...found.records);
    for (const range of found.damaged) {
      // Unreadable bytes that run to the end of the file: a write torn by a crash.
      if (next === -1 && range.offset + range.length === data.length) result.tornAt = range.offset;
      else result.damaged.push(range);
    }
    start = next;
  }
  return result;
}

/** The records of the bytes [start, end) that begin with RS, and the ranges that held none. */
function readRegion(
  data: Buffer,
  start: number,
  end: number,
): { records: ScannedRecord[]; damaged: { offset: number; length: number }[] } {
  const records: ScannedRecord[] = [];
  const damaged: { offset: number; length: number }[] = [];
  let from = start;
  while (from < end) {
    const nl = data.indexOf(NL, from + 1);
    const stop = nl === -1 || nl >= end ? -1 : nl;
    // A record ends at its newline; if that was overwritten, at the byte before the next RS.
    const last = stop !== -1 ? stop : end - 1;
    const json = validAt(data, from, last);
    const length = last + 1 - from;
    if (json !== undefined) records.push({ offset: from, length, flag: flagOf(data[from + 1]), json });
    else if (damaged.length > 0 && damaged[damaged.length - 1].offset + damaged[damaged.length - 1].length === from)
      damaged[damaged.length - 1].length += length;
    else damaged.push({ offset: from, length });
    // Bytes after a newline but before the next RS: a record whose RS was overwritten.
    from += length;
  }
  return { records, damaged };
}

/** The legacy format of 0.1.0 (`crc json\n`, no RS): read so that older logs still open. */
export function scanLegacy(data: Buffer): ScanResult {
  const result: ScanResult = { records: [], damaged: [] };
  let offset = 0;
  while (offset < data.length) {
    const end = data.indexOf(NL, offset);
    if (end === -1) {
      result.tornAt = offset;
      break;
    }
    const line = data.subarray(offset, end).toString('utf8');
    const json = line.slice(9);
    if (line.length >= 10 && line[8] === ' ' && checksum(json) === line.slice(0, 8)) {
      result.records.push({ offset, length: end + 1 - offset, flag: 'L', json });
    } else {
      result.damaged.push({ offset, length: end + 1 - offset });
    }
    offset = end + 1;
  }
  return result;
}

/** The JSON of a legacy record as the index points at it. */
export function unframeLegacy(record: Buffer): string | undefined {
  const line = record.toString('utf8');
  if (line.length < 11 || line[8] !== ' ' || !line.endsWith('\n')) return undefined;
  const json = line.slice(9, -1);
  return checksum(json) === line.slice(0, 8) ? json : undefined;
}
