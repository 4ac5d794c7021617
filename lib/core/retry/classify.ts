import { httpStatusOf } from '../error-matchers.js';
import { ResilienceConfigError } from '../errors.js';

const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);
const VALIDATION_NAMES = new Set(['ValidationError', 'ZodError', 'ValiError']);

/**
 * Errors that cannot succeed on a retry: an HTTP 4xx other than 408 and 429, a
 * validation error, a configuration error. Everything else may be transient.
 */
export function isPermanentError(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined && status >= 400 && status < 500 && !RETRYABLE_CLIENT_STATUSES.has(status)) return true;
  if (error instanceof ResilienceConfigError) return true;
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && VALIDATION_NAMES.has(name);
}
