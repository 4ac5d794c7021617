/**
 * Which errors a pattern reacts to. The guide names Python exception classes
 * (`ConnectionError`, `TimeoutError`, `HTTPError`...); a YAML configuration can only
 * name them, so names are resolved here to what Node errors actually carry.
 */
// biome-ignore lint/suspicious/noExplicitAny: error classes have arbitrary constructor signatures
export type ErrorClass = abstract new (...args: any[]) => Error;
export type ErrorPredicate = (error: unknown) => boolean;
/** An error class, a name (see ERROR_FAMILIES), or a predicate. */
export type ErrorMatcher = ErrorClass | string | ErrorPredicate;

/** Node's and undici's codes for a connection that failed (the table in docs/error-classification.md). */
export const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** Codes of a call that took too long; ECONNABORTED is also axios's code for its `timeout`. */
export const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ABORT_ERR_TIMEOUT',
]);
const DEADLOCK_CODES = new Set(['40P01', 'ER_LOCK_DEADLOCK', 'SQLITE_BUSY']);
const LOCK_TIMEOUT_CODES = new Set(['55P03', 'ER_LOCK_WAIT_TIMEOUT']);

function record(error: unknown): Record<string, unknown> | undefined {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : undefined;
}

/** How deep a `cause` chain (and nested AggregateErrors) is followed. */
const MAX_CAUSE_DEPTH = 8;

/**
 * The error, then what it wraps: its `cause` chain and an AggregateError's `errors`
 * (Node's fetch throws `TypeError: fetch failed` with the socket error as `cause`; a
 * connection to a name with two addresses fails with an AggregateError). Bounded in
 * depth and breadth, and safe against cycles.
 */
function* causesOf(error: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  const pending: [unknown, number][] = [[error, 0]];
  while (pending.length > 0 && seen.size < 64) {
    const [current, depth] = pending.shift() as [unknown, number];
    const e = record(current);
    if (!e || seen.has(e)) continue;
    seen.add(e);
    yield e;
    if (depth >= MAX_CAUSE_DEPTH) continue;
    if (e.cause !== undefined) pending.push([e.cause, depth + 1]);
    if (Array.isArray(e.errors)) for (const inner of e.errors.slice(0, 16)) pending.push([inner, depth + 1]);
  }
}

/** True when the error or anything it wraps satisfies `test`. */
function anyCause(error: unknown, test: (e: Record<string, unknown>) => boolean): boolean {
  for (const e of causesOf(error)) if (test(e)) return true;
  return false;
}

/** The first string `code` of the error or of what it wraps (ECONNREFUSED under fetch's `TypeError: fetch failed`). */
export function errorCodeOf(error: unknown): string | undefined {
  for (const e of causesOf(error)) if (typeof e.code === 'string' && e.code) return e.code;
  return undefined;
}

function hasCode(error: unknown, codes: ReadonlySet<string>): boolean {
  return anyCause(error, (e) => typeof e.code === 'string' && codes.has(e.code));
}

/** The HTTP status an error carries (`status`, `statusCode`, `response.status`, Nest's `getStatus()`). */
export function httpStatusOf(error: unknown): number | undefined {
  const e = record(error);
  if (!e) return undefined;
  const candidates = [e.status, e.statusCode, record(e.response)?.status, record(e.response)?.statusCode];
  for (const value of candidates) if (typeof value === 'number' && value >= 100 && value < 600) return value;
  if (typeof e.getStatus === 'function') {
    const status = (e.getStatus as () => unknown)();
    if (typeof status === 'number') return status;
  }
  return undefined;
}

const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

/**
 * An HTTP 4xx other than 408 (timeout) and 429 (too many requests): the caller sent a
 * request the dependency refused, and the dependency is healthy. A breaker does not count
 * it by default, and a retry does not repeat it.
 */
export function isClientError(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status !== undefined && status >= 400 && status < 500 && !RETRYABLE_CLIENT_STATUSES.has(status);
}

/**
 * What a breaker with no `expectedExceptions` counts: every error but a client error
 * (isClientError), so network errors, timeouts, 5xx, 408 and 429 count, as do errors
 * that carry no HTTP status at all (a database driver's, a bug's).
 */
export const countsAsFailureByDefault: ErrorPredicate = (error) => !isClientError(error) && !isCancellation(error);

/**
 * The caller cancelled the call (an AbortError that no timeout caused, axios's
 * CanceledError, a passed deadline, a hedge that lost): the dependency did nothing wrong, and
 * a retry would be cancelled too.
 */
export function isCancellation(error: unknown): boolean {
  const e = record(error);
  if (!e) return false;
  const cancelled =
    e.name === 'AbortError' ||
    e.name === 'CanceledError' ||
    e.code === 'ERR_CANCELED' ||
    // Ours: the caller's deadline passed; another attempt of a hedged call answered first.
    e.name === 'DeadlineExceededError' ||
    e.name === 'HedgeLostError';
  return cancelled && !hasName(error, 'TimeoutError');
}

/** True when the error (or anything it wraps), or a class in its prototype chain, has this name. */
export function hasName(error: unknown, name: string): boolean {
  return anyCause(error, (e) => ownName(e, name));
}

function ownName(e: Record<string, unknown>, name: string): boolean {
  if (e.name === name) return true;
  let proto = Object.getPrototypeOf(e);
  while (proto && proto !== Object.prototype) {
    if (proto.constructor?.name === name) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

const isConnection: ErrorPredicate = (e) => hasCode(e, CONNECTION_CODES) || hasName(e, 'ConnectionError');
/**
 * A timeout: a timeout code, an error named TimeoutError (AbortSignal.timeout()'s
 * DOMException, ours, undici's) or ReadTimeoutError, or an AbortError whose reason was a
 * timeout. A plain AbortError is the caller cancelling: not a timeout, and not worth a retry.
 */
export const isTimeout: ErrorPredicate = (e) =>
  hasCode(e, TIMEOUT_CODES) || hasName(e, 'TimeoutError') || hasName(e, 'ReadTimeoutError');
/** A server-side HTTP failure: 5xx, or an error named HTTPError. */
const isHttpServerError: ErrorPredicate = (e) => {
  const status = httpStatusOf(e);
  return (status !== undefined && status >= 500) || hasName(e, 'HTTPError');
};

/**
 * The guide's exception names, resolved for Node. A name not listed here matches
 * an error whose `name`, class name (or a parent's) or `code` equals it.
 */
export const ERROR_FAMILIES: Readonly<Record<string, ErrorPredicate>> = {
  Exception: () => true,
  Error: () => true,
  ConnectionError: isConnection,
  TimeoutError: isTimeout,
  ReadTimeoutError: isTimeout,
  HTTPError: isHttpServerError,
  ServiceUnavailableError: (e) => httpStatusOf(e) === 503 || hasName(e, 'ServiceUnavailableError'),
  RequestException: (e) => isConnection(e) || isTimeout(e) || isHttpServerError(e) || hasName(e, 'RequestException'),
  TemporaryFailure: (e) => hasName(e, 'TemporaryFailure') || httpStatusOf(e) === 503,
  OperationalError: (e) => hasName(e, 'OperationalError') || isConnection(e),
  DeadlockError: (e) => hasName(e, 'DeadlockError') || hasCode(e, DEADLOCK_CODES),
  LockTimeoutError: (e) => hasName(e, 'LockTimeoutError') || hasCode(e, LOCK_TIMEOUT_CODES),
};

function matcherToPredicate(matcher: ErrorMatcher): ErrorPredicate {
  if (typeof matcher === 'string') {
    const family = ERROR_FAMILIES[matcher];
    if (family) return family;
    return (e) => hasName(e, matcher) || anyCause(e, (inner) => inner.code === matcher);
  }
  if (isErrorClass(matcher)) {
    const cls = matcher;
    return (e) => e instanceof cls;
  }
  return matcher as ErrorPredicate;
}

function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === 'function' && (value === Error || value.prototype instanceof Error);
}

/**
 * One predicate for a list of matchers; undefined or an empty list means "every error".
 * A single function that is not an Error subclass is taken as a predicate.
 */
export function errorPredicate(matchers: ErrorMatcher | readonly ErrorMatcher[] | undefined): ErrorPredicate {
  if (matchers === undefined) return () => true;
  const list = Array.isArray(matchers) ? (matchers as readonly ErrorMatcher[]) : [matchers as ErrorMatcher];
  if (list.length === 0) return () => true;
  if (list.length === 1) return matcherToPredicate(list[0]);
  const predicates = list.map(matcherToPredicate);
  return (e) => predicates.some((p) => p(e));
}
