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

const CONNECTION_CODES = new Set([
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
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const DEADLOCK_CODES = new Set(['40P01', 'ER_LOCK_DEADLOCK', 'SQLITE_BUSY']);
const LOCK_TIMEOUT_CODES = new Set(['55P03', 'ER_LOCK_WAIT_TIMEOUT']);

function record(error: unknown): Record<string, unknown> | undefined {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : undefined;
}

function errorCode(error: unknown): string | undefined {
  const code = record(error)?.code;
  return typeof code === 'string' ? code : undefined;
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

/** True when the error, or any class in its prototype chain, has this name. */
function hasName(error: unknown, name: string): boolean {
  const e = record(error);
  if (!e) return false;
  if (e.name === name) return true;
  let proto = Object.getPrototypeOf(e);
  while (proto && proto !== Object.prototype) {
    if (proto.constructor?.name === name) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

const isConnection: ErrorPredicate = (e) => {
  const code = errorCode(e);
  return (code !== undefined && CONNECTION_CODES.has(code)) || hasName(e, 'ConnectionError');
};
const isTimeout: ErrorPredicate = (e) => {
  const code = errorCode(e);
  return (
    (code !== undefined && TIMEOUT_CODES.has(code)) ||
    hasName(e, 'TimeoutError') ||
    hasName(e, 'ReadTimeoutError') ||
    code === 'ABORT_ERR_TIMEOUT'
  );
};
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
  DeadlockError: (e) => {
    const code = errorCode(e);
    return hasName(e, 'DeadlockError') || (code !== undefined && DEADLOCK_CODES.has(code));
  },
  LockTimeoutError: (e) => {
    const code = errorCode(e);
    return hasName(e, 'LockTimeoutError') || (code !== undefined && LOCK_TIMEOUT_CODES.has(code));
  },
};

function matcherToPredicate(matcher: ErrorMatcher): ErrorPredicate {
  if (typeof matcher === 'string') {
    const family = ERROR_FAMILIES[matcher];
    if (family) return family;
    return (e) => hasName(e, matcher) || errorCode(e) === matcher;
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
