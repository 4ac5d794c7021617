import { type ErrorMatcher, errorPredicate } from '../error-matchers.js';
import type { ResilienceContext } from './context.js';
import type { Stage } from './stage.js';

/** What a fallback answers with: the error the call ended with, and the call's arguments. */
export type FallbackHandler = (error: unknown, args: readonly unknown[]) => unknown;

export interface FallbackStageOptions {
  /** Answers for a failed call; what it returns (or resolves to) is the call's result. */
  fallback: FallbackHandler;
  /** Which errors it answers for (names, families, classes, predicates). Default: every error. */
  handle?: ErrorMatcher | readonly ErrorMatcher[];
  /** Told of each use: 'answered' (the fallback's value was returned) or 'failed' (it threw). */
  onFallback?: (outcome: 'answered' | 'failed', error: unknown, context: ResilienceContext) => void;
}

/** The fallback's own failure, with the call's error as its cause when it names none. */
function withCause(failure: unknown, original: unknown): unknown {
  if (failure instanceof Error && failure.cause === undefined && failure !== original) {
    try {
      Object.defineProperty(failure, 'cause', { value: original, writable: true, configurable: true });
    } catch {
      // A frozen error keeps what it has: it still reaches the caller as itself.
    }
  }
  return failure;
}

/**
 * The outermost stage: a call that fails with an error `handle` accepts (a refusal, a
 * timeout, the dependency's own failure, after the retries and after its dead letter was
 * kept) is answered by `fallback`. A fallback that fails reaches the caller as itself, with
 * the call's error as its `cause`: never swallowed, never replaced by the original.
 */
export function fallbackStage(options: FallbackStageOptions): Stage {
  const { fallback, onFallback } = options;
  const handles = errorPredicate(options.handle);
  return {
    kind: 'fallback',
    // It turns failures into successes: an observer outside it must watch on its own.
    failures: 'may-recover',
    wrap(next) {
      const recover = (error: unknown, context: ResilienceContext): unknown => {
        if (!handles(error)) return Promise.reject(error);
        let answer: unknown;
        try {
          answer = fallback(error, context.args);
        } catch (failure) {
          onFallback?.('failed', error, context);
          return Promise.reject(withCause(failure, error));
        }
        return Promise.resolve(answer).then(
          (value) => {
            onFallback?.('answered', error, context);
            return value;
          },
          (failure: unknown) => {
            onFallback?.('failed', error, context);
            return Promise.reject(withCause(failure, error));
          },
        );
      };
      return (context) => next(context).then(undefined, (error: unknown) => recover(error, context));
    },
  };
}
