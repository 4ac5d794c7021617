import { isCancellation, isClientError } from '../error-matchers.js';
import { ResilienceConfigError } from '../errors.js';

const VALIDATION_NAMES = new Set(['ValidationError', 'ZodError', 'ValiError']);

/**
 * Errors that cannot succeed on a retry: an HTTP 4xx other than 408 and 429, a call the
 * caller cancelled, a validation error, a configuration error. Everything else may be transient.
 */
export function isPermanentError(error: unknown): boolean {
  if (isClientError(error) || isCancellation(error)) return true;
  if (error instanceof ResilienceConfigError) return true;
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && VALIDATION_NAMES.has(name);
}
