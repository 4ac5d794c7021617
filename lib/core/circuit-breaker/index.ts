export type { CircuitBreakerEvents } from './breaker-events.js';
export * from './circuit-breaker.js';
export * from './state-store.js';
export * from './types.js';
export { CountWindow, type OutcomeWindow, TimeWindow, type WindowSnapshot, type WindowTotals } from './window.js';
