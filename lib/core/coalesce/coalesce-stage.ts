import type { ResilienceContext } from '../pipeline/context.js';
import { type Next, runNext, type Stage } from '../pipeline/stage.js';

/** What happened to a call: it joined another's execution, or the map was full and it ran alone. */
export type CoalesceOutcome = 'joined' | 'overflow';

export interface CoalesceStageOptions {
  /**
   * The calls that may share an execution have the same key; undefined: this call runs alone.
   * (The Nest layer's default is the arguments' stable serialization, object keys sorted.)
   */
  key: (context: ResilienceContext) => string | undefined;
  /** Executions in flight at most; beyond, calls run alone (counted as 'overflow'). Default 10,000. */
  maxKeys?: number;
  onCoalesce?: (outcome: CoalesceOutcome, context: ResilienceContext) => void;
}

/** One execution and the callers waiting for it. */
interface Flight {
  readonly promise: Promise<unknown>;
  readonly controller: AbortController | undefined;
  waiting: number;
}

/**
 * Request coalescing (opossum's `coalesce`, singleflight): concurrent calls with the same key
 * share one execution, its result or its error. Nothing is kept once it settles (not a cache);
 * at most `maxKeys` executions are tracked. A caller whose own signal aborts stops waiting;
 * the execution is aborted only when no caller waits for it any more.
 */
export function coalesceStage(options: CoalesceStageOptions): Stage {
  const keyOf = options.key;
  const maxKeys = options.maxKeys ?? 10_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1)
    throw new RangeError(`maxKeys must be an integer >= 1, got ${maxKeys}`);
  const onCoalesce = options.onCoalesce;
  const flights = new Map<string, Flight>();
  return {
    kind: 'coalesce',
    failures: 'reports-own',
    wrap(next: Next, hooks) {
      const report = hooks.finalFailure;
      const wait = (flight: Flight, context: ResilienceContext): Promise<unknown> => {
        const signal = context.signal;
        if (!signal) return flight.promise;
        if (signal.aborted) return leave(flight, signal.reason, context);
        return new Promise((resolve, reject) => {
          const abort = () => leave(flight, signal.reason, context).then(resolve, reject);
          signal.addEventListener('abort', abort, { once: true });
          flight.promise.then(
            (value) => {
              signal.removeEventListener('abort', abort);
              resolve(value);
            },
            (error: unknown) => {
              signal.removeEventListener('abort', abort);
              reject(error);
            },
          );
        });
      };
      const leave = (flight: Flight, reason: unknown, context: ResilienceContext): Promise<never> => {
        if (--flight.waiting === 0) {
          // Nobody waits any more: the execution stops, and its outcome is no one's to hear.
          flight.promise.catch(() => {});
          flight.controller?.abort(reason);
        }
        const failed = Promise.reject(reason);
        return report ? report(reason, context).then(() => failed) : failed;
      };
      return (context) => {
        const key = keyOf(context);
        if (key === undefined) return next(context);
        const current = flights.get(key);
        if (current) {
          current.waiting++;
          onCoalesce?.('joined', context);
          return wait(current, context);
        }
        if (flights.size >= maxKeys) {
          onCoalesce?.('overflow', context);
          return next(context);
        }
        // The execution has a signal of its own: the first caller's abort must not end it for the
        // others. Only a caller with a signal can leave, and the last to leave aborts it: when the
        // first caller has none, nobody ever will, and the execution needs no signal (which costs
        // microseconds to make).
        const controller = context.signal ? new AbortController() : undefined;
        const shared: ResilienceContext = { ...context, signal: controller?.signal };
        const run = runNext(next, shared);
        const flight: Flight = {
          promise: run.finally(() => flights.delete(key)),
          controller,
          waiting: 1,
        };
        flights.set(key, flight);
        return wait(flight, context);
      };
    },
  };
}
