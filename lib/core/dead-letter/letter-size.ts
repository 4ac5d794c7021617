import { ResilienceError } from '../errors.js';
import type { LetterCodec } from './codec.js';
import type { DeadLetterRecord } from './types.js';

/** A letter larger than `maxMessageSize`: never silently dropped, so the caller hears of it. */
export class DeadLetterTooLargeError extends ResilienceError {
  /** `size` is undefined when the arguments were refused before being copied whole. */
  constructor(
    readonly size: number | undefined,
    readonly limit: number,
    readonly queue: string,
  ) {
    super(
      `Dead letter for queue "${queue}" is ${size === undefined ? 'more than' : size} bytes, over maxMessageSize ${limit} bytes (set storageConfig.maxMessageSize, or truncate: true to keep it without its arguments)`,
    );
  }
}

/** Bytes of a stored letter at most, unless the backend or the queue says otherwise. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

/**
 * The letter as it will be stored: itself if it fits `limit` bytes (as the backend encodes it,
 * JSON otherwise), else without its arguments (marked `truncated`) when `truncate` allows,
 * else DeadLetterTooLargeError: never dropped silently.
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
  const truncated: DeadLetterRecord = { ...letter, args: null, truncated: { originalSize: size } };
  const stillTooLarge = storedSize(truncated);
  if (stillTooLarge > limit) throw new DeadLetterTooLargeError(stillTooLarge, limit, queue);
  return truncated;
}
