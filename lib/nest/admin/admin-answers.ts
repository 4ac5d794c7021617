import { HttpException, type Logger, UnsupportedMediaTypeException } from '@nestjs/common';
import { ChaosFleetUnavailableError, ResilienceConfigError } from '../../core/errors.js';
import { AdminAccess, type AdminRequest } from './admin-access.js';
import { AdminRequestError } from './admin-console.service.js';

// How the console's routes read bodies and turn errors into answers.

/** An AdminRequestError as the HTTP answer it stands for; anything else goes to Nest as it is. */
export async function answer<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AdminRequestError)
      throw new HttpException({ statusCode: error.status, message: error.message }, error.status);
    throw error;
  }
}

/**
 * A refused experiment (bad settings, chaos off) as a 400 naming each problem; a fleet change
 * Redis could not take as a 503 saying what happened on this replica.
 */
export async function asAdminError<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ResilienceConfigError) {
      throw new AdminRequestError(400, error.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    }
    if (error instanceof ChaosFleetUnavailableError) throw new AdminRequestError(503, error.message);
    throw error;
  }
}

/** The share asked for, for the audit line (whatever the body is). */
export function shareOf(body: unknown): unknown {
  return body && typeof body === 'object' ? (body as { percent?: unknown }).percent : undefined;
}

export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new AdminRequestError(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** No cache may keep an admin answer. */
export const NO_STORE = ['Cache-Control', 'no-store'] as const;

/** Runs a mutation: JSON bodies only for POST, one audit line whatever the outcome. */
export async function auditedMutation<T>(
  audit: Logger,
  request: AdminRequest,
  what: string,
  work: () => T | Promise<T>,
): Promise<T> {
  const who = AdminAccess.who(request);
  const at = new Date().toISOString();
  if (request.method === 'POST' && !String(request.headers['content-type'] ?? '').startsWith('application/json')) {
    audit.warn(JSON.stringify({ at, who, what, outcome: 'refused: not a JSON request' }));
    throw new UnsupportedMediaTypeException('admin mutations take a JSON body (Content-Type: application/json)');
  }
  try {
    const result = await answer(work);
    audit.log(JSON.stringify({ at, who, what, outcome: 'done' }));
    return result;
  } catch (error) {
    audit.warn(JSON.stringify({ at, who, what, outcome: `failed: ${(error as Error).message}` }));
    throw error;
  }
}
