import { EventSource, type Unsubscribe } from '../events.js';
import type { CircuitBreakerListener, CircuitState } from './types.js';

/** What a breaker tells, one typed event each (see CircuitBreakerPolicy.onStateChange...). */
export interface CircuitBreakerEvents {
  stateChange: { from: CircuitState; to: CircuitState; name: string };
  success: { name: string };
  failure: { name: string; error: unknown };
  rejection: { name: string };
}

export type CircuitBreakerEventSources = { [K in keyof CircuitBreakerEvents]: EventSource<CircuitBreakerEvents[K]> };

export function circuitBreakerEventSources(): CircuitBreakerEventSources {
  return {
    stateChange: new EventSource(),
    success: new EventSource(),
    failure: new EventSource(),
    rejection: new EventSource(),
  };
}

/** A listener object (`subscribe({ onStateChange, ... })`) as subscriptions to the events it handles. */
export function subscribeListener(sources: CircuitBreakerEventSources, listener: CircuitBreakerListener): Unsubscribe {
  const stops: Unsubscribe[] = [];
  if (listener.onStateChange) {
    stops.push(sources.stateChange.event(({ from, to, name }) => listener.onStateChange?.(from, to, name)));
  }
  if (listener.onSuccess) stops.push(sources.success.event(({ name }) => listener.onSuccess?.(name)));
  if (listener.onFailure) stops.push(sources.failure.event(({ name, error }) => listener.onFailure?.(name, error)));
  if (listener.onRejection) stops.push(sources.rejection.event(({ name }) => listener.onRejection?.(name)));
  return () => {
    for (const stop of stops) stop();
  };
}
