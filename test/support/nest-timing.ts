import type { TestingModuleBuilder } from '@nestjs/testing';
import { ManualClock, RESILIENCE_CLOCK, RESILIENCE_SLEEP } from '../../lib/index.js';

/** Fake time for a Nest test app: waits are recorded (seconds) and advance the clock instead of sleeping. */
export function fakeTime(builder: TestingModuleBuilder, start = 1_000_000) {
  const clock = new ManualClock(start);
  const waits: number[] = [];
  builder.overrideProvider(RESILIENCE_CLOCK).useValue(clock);
  builder.overrideProvider(RESILIENCE_SLEEP).useValue(async (ms: number) => {
    waits.push(ms / 1000);
    clock.advance(ms);
  });
  return { clock, waits };
}
