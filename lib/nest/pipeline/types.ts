import type { AttemptRecord } from '../../core/dead-letter/types.js';

export type Call = () => unknown;
/** `trail` collects each failed attempt of a call that a dead-letter stage watches. */
export type Pipeline = (call: Call, args: unknown[], trail?: AttemptRecord[]) => Promise<unknown>;

/** A method's pipeline, and the same without its dead-letter stage (for replays). */
export interface Built {
  pipeline: Pipeline;
  replay: Pipeline;
}
