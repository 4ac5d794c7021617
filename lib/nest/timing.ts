import { type Clock, systemClock, wallClock } from '../core/clock.js';
import { realSleep, type Sleep } from '../core/retry/sleep.js';
import { RESILIENCE_CLOCK, RESILIENCE_SLEEP } from './tokens.js';

export { RESILIENCE_CLOCK, RESILIENCE_SLEEP } from './tokens.js';

// Override them in tests (`overrideProvider(RESILIENCE_CLOCK).useValue(new ManualClock())`)
// to make time-dependent behaviour exact.
export const timingProviders = [
  { provide: RESILIENCE_CLOCK, useValue: systemClock satisfies Clock },
  { provide: RESILIENCE_SLEEP, useValue: realSleep satisfies Sleep },
];

/**
 * The clock of what dead letters record (created at, each attempt's time): the wall clock by
 * default, as people and other processes read them; a clock the application gave (a test's
 * ManualClock) as it is.
 */
export function lettersClock(clock: Clock): Clock {
  return clock === systemClock ? wallClock : clock;
}
