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

/** Milliseconds per unit of gRPC's TimeoutValue: Hours, Minutes, Seconds, millis, micros, nanos. */
const GRPC_TIMEOUT_UNITS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/**
 * A `grpc-timeout` value (gRPC over HTTP/2: 1 to 8 digits and a unit, e.g. `150m`) in ms,
 * rounded up, clamped to `maxMs`; undefined for anything else (a list, a sign, a word).
 */
export function parseGrpcTimeout(value: unknown, maxMs = DEFAULT_DEADLINE_HEADERS.maxMs): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value.trim());
  if (!match) return undefined;
  const ms = Math.ceil(Number(match[1]) * (GRPC_TIMEOUT_UNITS[match[2] as string] as number));
  return ms > 0 ? Math.min(ms, maxMs) : undefined;
}

/**
 * The time left of a gRPC call, in ms, clamped to `maxMs`: the call's own deadline (grpc-js
 * parses `grpc-timeout` into `call.getDeadline()`, a Date or epoch ms, Infinity for none), else
 * a `grpc-timeout` still in the metadata (another server library); undefined when neither.
 */
export function remainingOfRpc(
  call: unknown,
  grpcTimeout: unknown,
  wallNow: number,
  maxMs = DEFAULT_DEADLINE_HEADERS.maxMs,
): number | undefined {
  const getDeadline = (call as { getDeadline?: unknown } | undefined)?.getDeadline;
  if (typeof getDeadline === 'function') {
    const deadline: unknown = getDeadline.call(call);
    const at = deadline instanceof Date ? deadline.getTime() : typeof deadline === 'number' ? deadline : Number.NaN;
    if (Number.isFinite(at)) return Math.min(at - wallNow, maxMs);
  }
  return parseGrpcTimeout(grpcTimeout, maxMs);
}
