/** Where a caller's deadline is read from, and how far it may reach. */
export interface DeadlineHeaders {
  /** An absolute deadline, epoch milliseconds (wall clock). Default `x-request-deadline`. */
  absolute: string;
  /** A relative one, milliseconds from now (immune to clock skew between hosts). Default `x-request-timeout-ms`. */
  relative: string;
  /** The latest deadline accepted, in ms from now: later ones are clamped to it. */
  maxMs: number;
}

export const DEFAULT_DEADLINE_HEADERS: DeadlineHeaders = {
  absolute: 'x-request-deadline',
  relative: 'x-request-timeout-ms',
  maxMs: 60_000,
};

/** A header's one value: a list (a repeated header) counts as absent, never as its first item. */
function single(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 20 ? value : undefined;
}

/** A non-negative decimal integer, or undefined (signs, fractions, exponents, words refused). */
function integer(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const parsed = Number(value.trim());
  return Number.isSafeInteger(parsed) ? parsed : Number.MAX_SAFE_INTEGER;
}

/**
 * The time left before the caller's deadline, in ms (0 or less: it has passed), from request
 * headers; undefined when no header gives a usable one. A relative timeout wins over an
 * absolute deadline when both are given and it is earlier, and both are clamped to
 * `maxMs`: a hostile or broken value (negative, a word, a far future, a list) is ignored or
 * clamped, never an error and never a longer deadline than `maxMs`. A relative 0 is ignored
 * (gRPC's "no deadline" spelling in some clients); an absolute deadline in the past is passed.
 */
export function remainingFromHeaders(
  headers: Record<string, unknown> | undefined,
  wallNow: number,
  options: DeadlineHeaders = DEFAULT_DEADLINE_HEADERS,
): number | undefined {
  if (!headers) return undefined;
  let remaining: number | undefined;
  const relative = integer(single(headers[options.relative]));
  if (relative !== undefined && relative > 0) remaining = relative;
  const absolute = integer(single(headers[options.absolute]));
  if (absolute !== undefined && absolute > 0) {
    const left = absolute - wallNow;
    remaining = remaining === undefined ? left : Math.min(remaining, left);
  }
  return remaining === undefined ? undefined : Math.min(remaining, options.maxMs);
}
