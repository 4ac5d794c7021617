import { ERROR_FAMILIES, httpStatusOf } from '../error-matchers.js';

/** The families a trace names, most specific first. */
const NAMED = [
  'ConnectionError',
  'TimeoutError',
  'ServiceUnavailableError',
  'HTTPError',
  'DeadlockError',
  'LockTimeoutError',
];

/** The guide's error family of `error` (ConnectionError, TimeoutError...), 'ClientError' for a 4xx, else its name. */
export function errorFamilyOf(error: unknown): string {
  for (const family of NAMED) if (ERROR_FAMILIES[family]?.(error)) return family;
  const status = httpStatusOf(error);
  if (status !== undefined && status >= 400 && status < 500) return 'ClientError';
  if (error instanceof Error) return error.name;
  return typeof error;
}
