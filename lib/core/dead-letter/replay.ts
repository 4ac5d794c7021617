import type { Clock } from '../clock.js';
import { CircuitOpenError, RateLimitExceededError } from '../errors.js';
import type { DeadLetterBackend, DeadLetterFilter, DeadLetterRecord } from './types.js';

export type ReplayHandler = (letter: DeadLetterRecord) => unknown;

export interface ReplayOptions {
  /** One letter by id. */
  id?: string;
  filter?: DeadLetterFilter;
  /** Letters replayed at most. Default: all that match. */
  limit?: number;
  /** Replays per second at most (> 0). Default 10. */
  ratePerSecond?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Aborted (the application shuts down): the replay stops before its next letter, and its
   * wait for it ends at once. The letter in progress finishes; the report says `stopped`.
   */
  signal?: AbortSignal;
}

export interface ReplayReport {
  replayed: number;
  succeeded: number;
  failed: number;
  exhausted: number;
  /**
   * Set when the replay stopped early because the dependency is still refusing calls (an
   * open breaker or a rate limit): that letter is not counted as an attempt and stays
   * pending, with the ones after it. `retryAfter` says when to try again (seconds).
   */
  stopped?: { reason: 'circuit_open' | 'rate_limited' | 'aborted'; retryAfter: number };
}

/** A call refused by a breaker or a limiter never reached the dependency: not a replay attempt. */
export function refusal(error: unknown): ReplayReport['stopped'] {
  if (error instanceof CircuitOpenError) return { reason: 'circuit_open', retryAfter: error.retryAfter };
  if (error instanceof RateLimitExceededError) return { reason: 'rate_limited', retryAfter: error.retryAfter };
  return undefined;
}

export function checkReplayOptions(queue: string, options: ReplayOptions): void {
  const { ratePerSecond, limit } = options;
  if (
    ratePerSecond !== undefined &&
    !(typeof ratePerSecond === 'number' && Number.isFinite(ratePerSecond) && ratePerSecond > 0)
  ) {
    throw new RangeError(
      `replay of queue "${queue}": ratePerSecond must be a finite number > 0, got ${String(ratePerSecond)}`,
    );
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`replay of queue "${queue}": limit must be an integer >= 0, got ${String(limit)}`);
  }
}

/** The letter `id`, if there is one (asked for by id, it is replayed whatever its status). */
export async function* oneLetter(backend: DeadLetterBackend, id: string): AsyncGenerator<DeadLetterRecord> {
  const letter = await backend.get(id);
  if (letter) yield letter;
}

/** Every pending letter `filter` matches, page by page, each once (a failed replay updates it in place). */
export async function* pendingLetters(
  backend: DeadLetterBackend,
  filter: DeadLetterFilter | undefined,
  clock: Clock,
): AsyncGenerator<DeadLetterRecord> {
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await backend.list({ filter: { ...filter, status: 'pending' }, limit: 100, cursor }, clock.now());
    for (const letter of page.items) {
      if (seen.has(letter.id)) continue;
      seen.add(letter.id);
      yield letter;
    }
    if (!page.next) return;
    cursor = page.next;
  }
}
