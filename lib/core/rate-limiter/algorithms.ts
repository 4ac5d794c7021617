import { capacity, type RateLimitRule } from './types.js';

/**
 * One limiter's state for one key, three numbers whatever the strategy:
 * - token_bucket (as GCRA): a = theoretical arrival time of the next request (ms);
 * - fixed_window: a = window index, b = requests counted in it;
 * - sliding_window: a = current window index, b = its count, c = the previous window's count.
 * A key never seen is all zeros.
 */
export interface RateState {
  a: number;
  b: number;
  c: number;
}

/** A decision, with the state to store if the whole call is admitted. Reused: callers copy what they keep. */
export interface Decision {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
  resetAfterMs: number;
  next: RateState;
}

export function newDecision(): Decision {
  return { allowed: false, remaining: 0, retryAfterMs: 0, resetAfterMs: 0, next: { a: 0, b: 0, c: 0 } };
}

function admit(out: Decision, remaining: number, resetAfterMs: number, a: number, b: number, c: number): Decision {
  out.allowed = true;
  out.remaining = remaining;
  out.retryAfterMs = 0;
  out.resetAfterMs = resetAfterMs;
  out.next.a = a;
  out.next.b = b;
  out.next.c = c;
  return out;
}

function deny(out: Decision, remaining: number, retryAfterMs: number, resetAfterMs: number): Decision {
  out.allowed = false;
  out.remaining = remaining;
  out.retryAfterMs = retryAfterMs;
  out.resetAfterMs = resetAfterMs;
  return out;
}

/**
 * Token bucket of capacity rate + burst refilled at rate/window, as GCRA: one stored
 * number (the theoretical arrival time, TAT). Admitted iff max(TAT, now) + cost*T - C*T <= now,
 * with T = window / rate the time one token takes to refill.
 */
function tokenBucket(rule: RateLimitRule, s: RateState, now: number, cost: number, out: Decision): Decision {
  const T = rule.windowMs / rule.rate;
  const C = capacity(rule);
  const tat = Math.max(s.a, now);
  const newTat = tat + cost * T;
  const allowAt = newTat - C * T;
  if (allowAt <= now) {
    const tokens = (now + C * T - newTat) / T;
    return admit(out, Math.floor(tokens + 1e-9), nextToken(tokens, C, T), newTat, 0, 0);
  }
  const tokens = (now + C * T - tat) / T;
  return deny(out, Math.max(0, Math.floor(tokens + 1e-9)), allowAt - now, nextToken(tokens, C, T));
}

/**
 * A token bucket's reset `t`: the time until the next token, when `remaining` goes up
 * by one (at most T, so at most the window); 0 when the bucket is full. Not the time until
 * it is full again, which grows as calls use it up, the wrong way for a client's clock.
 */
function nextToken(tokens: number, C: number, T: number): number {
  const whole = Math.floor(tokens + 1e-9);
  if (whole >= C) return 0;
  return Math.max(0, (whole + 1 - tokens) * T);
}

function fixedWindow(rule: RateLimitRule, s: RateState, now: number, cost: number, out: Decision): Decision {
  const C = capacity(rule);
  const w = Math.floor(now / rule.windowMs);
  const count = s.a === w ? s.b : 0;
  const windowEnd = (w + 1) * rule.windowMs - now;
  if (count + cost <= C) return admit(out, C - count - cost, windowEnd, w, count + cost, 0);
  return deny(out, Math.max(0, C - count), windowEnd, windowEnd);
}

/**
 * Sliding window as a weighted counter (as Cloudflare's): the estimate is
 * previous * (1 - elapsed fraction of the current window) + current. It assumes the
 * previous window's requests were spread evenly; it never admits more than the limit
 * within any one window-aligned period and errs by at most the previous window's
 * unevenness in between.
 */
function slidingWindow(rule: RateLimitRule, s: RateState, now: number, cost: number, out: Decision): Decision {
  const C = capacity(rule);
  const W = rule.windowMs;
  const w = Math.floor(now / W);
  let current = 0;
  let previous = 0;
  if (s.a === w) {
    current = s.b;
    previous = s.c;
  } else if (s.a === w - 1) {
    previous = s.b;
  }
  const elapsed = (now - w * W) / W;
  const estimate = previous * (1 - elapsed) + current;
  if (estimate + cost <= C) {
    const remaining = Math.max(0, Math.floor(C - estimate - cost + 1e-9));
    // t: when `remaining` next goes up by one (the previous window's weight decaying, or
    // the window turning), at most one window away.
    const resetAfterMs = Math.min(W, slidingRetryAfter(C, W, w, now, current + cost, previous, remaining + 1));
    return admit(out, remaining, resetAfterMs, w, current + cost, previous);
  }
  const remaining = Math.max(0, Math.floor(C - estimate + 1e-9));
  const retryAfterMs = slidingRetryAfter(C, W, w, now, current, previous, cost);
  const resetAfterMs = Math.min(W, slidingRetryAfter(C, W, w, now, current, previous, remaining + 1));
  return deny(out, remaining, retryAfterMs, resetAfterMs);
}

/** Time until previous*(1-f) + current + cost <= C, in this window or the next. */
function slidingRetryAfter(
  C: number,
  W: number,
  w: number,
  now: number,
  current: number,
  previous: number,
  cost: number,
): number {
  if (current + cost <= C && previous > 0) {
    const f = 1 - (C - current - cost) / previous;
    return Math.max(0, w * W + f * W - now);
  }
  // In the next window the current count becomes the previous one.
  const f = current > 0 ? Math.max(0, 1 - (C - cost) / current) : 0;
  return (w + 1) * W + f * W - now;
}

/** Decides into `out` (a fresh Decision by default). Costs above the capacity are refused earlier, by the limiter. */
export function decide(
  rule: RateLimitRule,
  state: RateState,
  now: number,
  cost: number,
  out = newDecision(),
): Decision {
  switch (rule.strategy) {
    case 'token_bucket':
      return tokenBucket(rule, state, now, cost, out);
    case 'fixed_window':
      return fixedWindow(rule, state, now, cost, out);
    case 'sliding_window':
      return slidingWindow(rule, state, now, cost, out);
  }
}

/** True when the state carries no information any more (the key can be forgotten). */
export function isIdle(rule: RateLimitRule, state: RateState, now: number): boolean {
  if (rule.strategy === 'token_bucket') return state.a <= now;
  const w = Math.floor(now / rule.windowMs);
  return rule.strategy === 'fixed_window' ? state.a < w : state.a < w - 1;
}
