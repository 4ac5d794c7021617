/**
 * The guide's order of the patterns, outermost first: the rate limiter turns excess
 * calls away before anything else; the dead letter sits outside the breaker and the
 * retries, so a call is kept once, after its last attempt, and a call the open breaker
 * turned away is kept too; the breaker sees one outcome per call (after its retries); the
 * retry runs each attempt; the bulkhead holds a slot for one attempt only (resilience4j's
 * place for it: a retry waiting in backoff holds no slot, and the breaker sees the call's
 * outcome, never our own load shedding as the dependency's failure). A timeout per call sits
 * inside the breaker and outside the retry (it bounds the call, retries included; the breaker
 * counts it); a timeout per attempt inside the retry and outside the bulkhead (each attempt has
 * its own, and waiting for a slot counts), as Polly's standard pipeline places them. The
 * fallback is outermost: it answers for whatever the call ends with (a refusal, a timeout, a
 * failure after the retries), once its dead letter was kept.
 */
export const STAGE_ORDER = [
  'fallback',
  'rate_limit',
  'dead_letter',
  'circuit_breaker',
  'timeout',
  'retry',
  'attempt_timeout',
  'bulkhead',
] as const;

export type StageKind = (typeof STAGE_ORDER)[number] | (string & {});
