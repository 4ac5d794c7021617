/** One failed attempt of a call, as recorded for its dead letter (the error as thrown). */
export interface FailedAttempt {
  /** 1 for the first try. */
  attempt: number;
  /** Epoch ms, from the recording policy's clock. */
  at: number;
  error: unknown;
}
