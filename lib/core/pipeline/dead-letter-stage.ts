import { type Clock, wallClock } from '../clock.js';
import type { DeadLetterQueue } from '../dead-letter/dead-letter-queue.js';
import { describeError } from '../dead-letter/serialize.js';
import type { DeadLetterRecord } from '../dead-letter/types.js';
import type { ResilienceContext } from './context.js';
import type { Stage } from './stage.js';

export interface DeadLetterStageOptions {
  queue: DeadLetterQueue;
  /** The caller still gets the error once its letter is kept (default). False: it gets undefined. */
  rethrow?: boolean;
  /** Who made the call, on every letter. */
  source?: DeadLetterRecord['source'];
  traceId?: (context: ResilienceContext) => string | undefined;
  /** A letter could not be stored (the caller gets the error whatever `rethrow` says). Default: a process warning. */
  onStoreError?: (error: unknown, context: ResilienceContext) => void;
  clock?: Clock;
}

function warn(error: unknown): void {
  process.emitWarning(`nest-resilience: could not keep a dead letter: ${(error as Error)?.message ?? error}`);
}

/**
 * Keeps each call that fails for good, once: its arguments, its attempts and the reason
 * from the context (`rejectedBy`, e.g. 'circuit_open', else 'failed').
 */
export function deadLetterStage(options: DeadLetterStageOptions): Stage {
  const { queue, rethrow = true, source, traceId, onStoreError = warn } = options;
  const clock = options.clock ?? wallClock;
  /** Resolves true once the letter is stored; false (reported) if it could not be. */
  const keep = (error: unknown, context: ResilienceContext): Promise<boolean> => {
    const attempts = context.attempts ?? [];
    if (context.rejectedBy === undefined && attempts.length === 0)
      attempts.push({ attempt: 1, at: clock.now(), error });
    const history = attempts.map((a) => ({ attempt: a.attempt, at: a.at, error: describeError(a.error) }));
    const letter = {
      args: context.args as unknown[],
      error,
      source,
      attempts: history.length,
      history,
      reason: context.rejectedBy ?? 'failed',
      traceId: traceId?.(context),
    };
    return queue.add(letter).then(
      () => true,
      (storeError: unknown) => {
        onStoreError(storeError, context);
        return false;
      },
    );
  };
  return {
    kind: 'dead_letter',
    failures: rethrow ? 'reports-own' : 'may-recover',
    wantsAttempts: true,
    observeFailure: rethrow ? keep : undefined,
    wrap(next) {
      return (context) =>
        next(context).catch(async (error: unknown) => {
          const stored = await keep(error, context);
          // Never lose a call silently: if its letter could not be kept, the caller gets the failure.
          if (rethrow || !stored) throw error;
          return undefined;
        });
    },
  };
}
