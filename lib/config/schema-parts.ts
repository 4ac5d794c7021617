import { z } from 'zod';
import { DURATION_HINT, type Duration, tryParseDuration } from '../core/duration.js';
import type { ErrorClass, ErrorPredicate } from '../core/error-matchers.js';

// The pieces every section of the configuration schema is built from.

/**
 * A schema's type under a name: `interface XSchema extends Named<typeof xObject> {}`. The
 * declarations of a schema that holds another then name it instead of expanding it (zod's
 * inferred types, expanded at every level, made config/schema.d.ts 100 KB).
 */
export type Named<T> = T;

/** Every key a configuration object may hold; used to suggest a fix for a typo. */
export const KNOWN_KEYS = new Set<string>();

export function strict<T extends z.ZodRawShape>(shape: T) {
  for (const key of Object.keys(shape)) KNOWN_KEYS.add(key);
  return z.strictObject(shape);
}

/** Why a section has its values: free text for the people who tune it (`nest-resilience check --explain` shows it); changes nothing. */
export const why = z.string().min(1);

/** A duration in seconds or with a unit (typed `Duration` for the reader); parsed to seconds. */
export function duration(options: { positive?: boolean } = {}) {
  return z.custom<Duration>().transform((value: unknown, ctx) => {
    const seconds = tryParseDuration(value);
    if (seconds === undefined) {
      ctx.addIssue({
        code: 'custom',
        message:
          value === undefined
            ? `is required (${DURATION_HINT})`
            : `invalid duration ${describe(value)} (use ${DURATION_HINT})`,
        input: value,
      });
      return z.NEVER;
    }
    if (options.positive && seconds <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be > 0, got ${describe(value)}`, input: value });
      return z.NEVER;
    }
    return seconds;
  });
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`.replace(/^number /, '');
}

/** A function of the signature `F` (checked to be a function; its signature is the type's). */
export const fn = <F>(what: string) =>
  z.custom<F>((v) => typeof v === 'function', { message: `${what} must be a function` });

/**
 * Decides whether an API key a client presented is genuine: true (keyed by the key's
 * hash), a string (keyed by that identity, e.g. the account that owns the key), or
 * false / undefined (not trusted: the call is keyed by its IP address). Synchronous: it
 * runs on every call; look keys up in memory, or authenticate in a guard instead.
 */
export type ApiKeyValidator = (apiKey: string, request: unknown) => boolean | string | undefined;
/** The rate-limit key of a call: whatever the call site has in, a key (or undefined: 'global') out. */
// biome-ignore lint/suspicious/noExplicitAny: the key function receives whatever the call site has
export type KeyFunction = (...args: any[]) => string | undefined;

export const errorMatcher = z.union([z.string().min(1), fn<ErrorClass | ErrorPredicate>('an error matcher')], {
  error: (issue) => `expected an error class, an error name or a predicate, got ${describe(issue.input)}`,
});
export const errorMatchers = z.array(errorMatcher);
export const percent = z.number().gt(0).max(100);
export const positiveInt = z.number().int().min(1);
export const nonNegativeInt = z.number().int().min(0);
