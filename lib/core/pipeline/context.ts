import type { Criticality } from '../criticality.js';
import type { FailedAttempt } from '../retry/failed-attempt.js';

/** The operation a pipeline protects, run (again, for a retry) by its innermost stage. */
export type Operation = (context: ResilienceContext) => unknown;

/** Why a stage turned a call away without running the stages inside it. */
export type RejectionReason = 'rate_limited' | 'circuit_open' | 'deadline_exceeded' | (string & {});

/**
 * One call's data, from the first stage to the operation: created per call, read and
 * written by the stages (cockatiel's and Polly's context, in one object).
 */
export interface ResilienceContext {
  /** The call's arguments (a dead letter keeps them for replay). */
  readonly args: readonly unknown[];
  readonly operation: Operation;
  /** The rate-limit key, when the caller knows it. */
  key?: string;
  /** The inbound request the call serves, if any (keys, trace ids). */
  request?: unknown;
  /** Aborted when the call is given up (a breaker's callTimeout): the operation should stop. */
  signal?: AbortSignal;
  /**
   * When the caller gives up, on the pipeline clock's time (set by the deadline stage): no retry
   * or hedge starts that cannot finish before it.
   */
  deadline?: number;
  /** How much the call matters under overload (the caller's class): a saturated bulkhead serves the most important first. */
  criticality?: Criticality;
  /** Failed attempts, recorded when a stage asks for them (a dead letter's history). */
  attempts?: FailedAttempt[];
  /** Set by the stage that turned the call away, with its reason; undefined if none did. */
  rejectedBy?: RejectionReason;
}

/** A context for one call of `operation` with `args`. */
export function createContext(
  operation: Operation,
  args: readonly unknown[] = [],
  init?: Partial<Pick<ResilienceContext, 'key' | 'request' | 'signal' | 'deadline' | 'criticality'>>,
): ResilienceContext {
  // Every field in one literal: one hidden class for every context (see retry-stage.ts).
  return {
    args,
    operation,
    key: init?.key,
    request: init?.request,
    signal: init?.signal,
    deadline: init?.deadline,
    criticality: init?.criticality,
    attempts: undefined,
    rejectedBy: undefined,
  };
}
