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
 * failure after the retries), once its dead letter was kept. Coalescing sits inside the rate
 * limiter (each caller is counted) and outside the rest (identical calls share one dead letter,
 * one breaker outcome, one set of attempts). Hedging sits inside the call's timeout (which
 * bounds every hedge) and outside the retry: each hedge is an attempt with its own retries.
 * Chaos is innermost, around the operation itself: every other stage meets an injected fault
 * exactly as a real one. The caller's deadline is checked first of all (after the fallback, which may still answer):
 * a call nobody waits for is not counted, limited or kept.
 */
export const STAGE_ORDER = [
  'fallback',
  'deadline',
  'rate_limit',
  'coalesce',
  'dead_letter',
  'circuit_breaker',
  'timeout',
  'hedge',
  'retry',
  'attempt_timeout',
  'bulkhead',
  'chaos',
] as const;

export type StageKind = (typeof STAGE_ORDER)[number] | (string & {});

/** Where a stage kind that is not in an order goes: directly inside `after`, or directly outside `before`. */
export interface StagePlace {
  kind: string;
  after?: string;
  before?: string;
}

/**
 * `order` with the kinds of `places` inserted (a pattern defined outside the core), each
 * beside the kind it names; a kind already in the order keeps its place. An unknown anchor is
 * an error that names it.
 */
export function orderWith(places: readonly StagePlace[], order: readonly string[] = STAGE_ORDER): string[] {
  const result = [...order];
  const waiting = places.filter((place) => !result.includes(place.kind));
  // A place may name another added kind: insert until nothing more can be placed.
  while (waiting.length > 0) {
    const index = waiting.findIndex((place) => result.includes((place.after ?? place.before) as string));
    if (index < 0) {
      const place = waiting[0];
      const anchor = place.after ?? place.before;
      throw new TypeError(
        anchor === undefined
          ? `stage kind "${place.kind}" needs a place: { after } or { before } a kind of [${result.join(', ')}]`
          : `stage kind "${place.kind}": "${anchor}" is not in the order [${result.join(', ')}]`,
      );
    }
    const [place] = waiting.splice(index, 1);
    const at = result.indexOf((place.after ?? place.before) as string);
    result.splice(place.after !== undefined ? at + 1 : at, 0, place.kind);
  }
  return result;
}
