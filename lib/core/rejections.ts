import type { ErrorClass } from './error-matchers.js';
import {
  ApplicationShutdownError,
  BulkheadRejectedError,
  CircuitOpenError,
  DeadlineExceededError,
  RateLimitExceededError,
  RateLimiterShutdownError,
  TimeoutError,
} from './errors.js';

/** What a client is told for a call turned away (or timed out by us), whatever the transport. */
export interface Rejection {
  /** HTTP status (RPC and WebSocket exceptions carry it too). */
  status: 429 | 503 | 504;
  /** The GraphQL `extensions.code`. */
  graphql: 'TOO_MANY_REQUESTS' | 'SERVICE_UNAVAILABLE' | 'GATEWAY_TIMEOUT';
  /** The application is shutting down: another replica can serve the call (the connection closes). */
  shutdown: boolean;
  /** Seconds after which a retry may succeed, when the error knows. */
  retryAfter?: number;
}

/**
 * The errors our patterns turn calls away with, and what a client is told for each: one
 * entry per error, read by every transport mapping (HTTP, GraphQL, RPC, WebSocket). A new
 * pattern that turns calls away adds its error here.
 */
const rejections: { error: ErrorClass; rejection: Omit<Rejection, 'retryAfter'> }[] = [
  { error: RateLimitExceededError, rejection: { status: 429, graphql: 'TOO_MANY_REQUESTS', shutdown: false } },
  { error: CircuitOpenError, rejection: { status: 503, graphql: 'SERVICE_UNAVAILABLE', shutdown: false } },
  { error: BulkheadRejectedError, rejection: { status: 503, graphql: 'SERVICE_UNAVAILABLE', shutdown: false } },
  { error: TimeoutError, rejection: { status: 504, graphql: 'GATEWAY_TIMEOUT', shutdown: false } },
  { error: DeadlineExceededError, rejection: { status: 504, graphql: 'GATEWAY_TIMEOUT', shutdown: false } },
  { error: RateLimiterShutdownError, rejection: { status: 503, graphql: 'SERVICE_UNAVAILABLE', shutdown: true } },
  { error: ApplicationShutdownError, rejection: { status: 503, graphql: 'SERVICE_UNAVAILABLE', shutdown: true } },
];
export const REJECTIONS: readonly { error: ErrorClass; rejection: Omit<Rejection, 'retryAfter'> }[] = rejections;

/**
 * Adds an error a pattern defined outside the core turns calls away with (see the Nest
 * layer's definePattern). A class already listed keeps its entry.
 */
export function registerRejection(error: ErrorClass, rejection: Omit<Rejection, 'retryAfter'>): void {
  if (rejections.some((entry) => entry.error === error)) return;
  rejections.push({ error, rejection });
}

/** What a client is told for `error`, or undefined when it is not one of our rejections. */
export function rejectionOf(error: unknown): Rejection | undefined {
  if (!(error instanceof Error)) return undefined;
  for (const { error: type, rejection } of REJECTIONS) {
    if (error instanceof type) {
      if (rejection.shutdown) return rejection;
      return { ...rejection, retryAfter: (error as Error & { retryAfter?: number }).retryAfter };
    }
  }
  return undefined;
}
