import { ResilienceError } from '../errors.js';
import type { LetterCodec } from './codec.js';
import type { DeadLetterRecord } from './types.js';

/** A letter larger than `maxMessageSize` as stored: never silently dropped, so the caller hears of it. */
export class DeadLetterTooLargeError extends ResilienceError {
  /**
   * `size`: the stored bytes (after compression and encryption); undefined when the arguments
   * were refused before being copied whole (`reason` says why).
   */
  constructor(
    readonly size: number | undefined,
    readonly limit: number,
    readonly queue: string,
    readonly reason?: string,
  ) {
    super(
      `Dead letter for queue "${queue}" ${size === undefined ? `could not be kept whole (${reason})` : `is ${size} bytes as stored, over maxMessageSize ${limit} bytes`}; maxMessageSize is ${limit} bytes (raise storageConfig.maxMessageSize, or leave truncate on to keep letters without what does not fit)`,
    );
  }
}

/** Bytes of a stored letter at most, unless the backend or the queue says otherwise. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

/**
 * The letter as it will be stored: itself if its stored form (as the backend encodes it, so
 * after compression and encryption; JSON otherwise) fits `limit` bytes; else, when `truncate`
 * allows, its arguments replaced by a marker and the letter flagged `truncated` with the
 * numbers; else DeadLetterTooLargeError with them: never dropped silently.
 */
export function fitToSize(
  letter: DeadLetterRecord,
  limit: number,
  truncate: boolean,
  codec: LetterCodec | undefined,
  queue: string,
): DeadLetterRecord {
  const storedSize = (l: DeadLetterRecord) => Buffer.byteLength(codec ? codec.encode(l) : JSON.stringify(l));
  const size = storedSize(letter);
  if (size <= limit) return letter;
  if (!truncate) throw new DeadLetterTooLargeError(size, limit, queue);
  const reason = `the letter was ${size} bytes as stored, over maxMessageSize ${limit} bytes: its arguments were left out`;
  const truncated: DeadLetterRecord = {
    ...letter,
    args: { $type: 'omitted', reason },
    truncated: { reason: letter.truncated ? `${letter.truncated.reason}; ${reason}` : reason, originalSize: size },
  };
  const stillTooLarge = storedSize(truncated);
  if (stillTooLarge > limit) throw new DeadLetterTooLargeError(stillTooLarge, limit, queue);
  return truncated;
}
