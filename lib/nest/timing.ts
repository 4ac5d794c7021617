import { type Clock, systemClock } from '../core/clock.js';
import { realSleep, type Sleep } from '../core/retry/sleep.js';

/**
 * The time sources of every breaker, policy and limiter the module creates. Override
 * them in tests (`overrideProvider(RESILIENCE_CLOCK).useValue(new ManualClock())`) to
 * make time-dependent behaviour exact.
 */
export const RESILIENCE_CLOCK = Symbol.for('nest-resilience:RESILIENCE_CLOCK');
export const RESILIENCE_SLEEP = Symbol.for('nest-resilience:RESILIENCE_SLEEP');

export const timingProviders = [
  { provide: RESILIENCE_CLOCK, useValue: systemClock satisfies Clock },
  { provide: RESILIENCE_SLEEP, useValue: realSleep satisfies Sleep },
];
