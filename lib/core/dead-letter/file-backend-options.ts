import type { LetterCodec } from './codec.js';
import type { Op } from './file-recovery.js';
import type { DeadLetterRecord } from './types.js';

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

/** One write waiting for the next group commit. */
export interface Pending {
  record: string;
  op: Op;
  letter?: DeadLetterRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}
