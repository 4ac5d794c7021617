import { breakerOptionsOf, bulkheadOptionsOf, limiterRule, retryOptionsOf } from '../../config/policy-options.js';
import type { ResolvedServiceConfig } from '../../config/resolved-types.js';
import { BulkheadPolicy } from '../../core/bulkhead/bulkhead.js';
import { CircuitBreakerPolicy } from '../../core/circuit-breaker/circuit-breaker.js';
import { DeadLetterQueue } from '../../core/dead-letter/dead-letter-queue.js';
import type { DeadLetterBackend, DeadLetterRecord, ListPage } from '../../core/dead-letter/types.js';
import { bulkheadStage } from '../../core/pipeline/bulkhead-stage.js';
import { circuitBreakerStage } from '../../core/pipeline/circuit-breaker-stage.js';
import { compose } from '../../core/pipeline/compose.js';
import { deadLetterStage } from '../../core/pipeline/dead-letter-stage.js';
import { rateLimitStage } from '../../core/pipeline/rate-limit-stage.js';
import { retryStage } from '../../core/pipeline/retry-stage.js';
import type { Next, Stage } from '../../core/pipeline/stage.js';
import { timeoutStage } from '../../core/pipeline/timeout-stage.js';
import { MemoryRateLimitStore } from '../../core/rate-limiter/memory-store.js';
import { RateLimiter } from '../../core/rate-limiter/rate-limiter.js';
import { RetryPolicy } from '../../core/retry/retry-policy.js';
import type { VirtualTime } from './virtual-time.js';

/** The composed pipeline of a service, and the policies in it (the replay reads their events). */
export interface SimulatedPipeline {
  next: Next;
  breaker: CircuitBreakerPolicy;
  bulkhead?: BulkheadPolicy;
  /** Letters kept; counted, not stored (a day of traffic would not fit in memory). */
  letters: () => number;
}

/** A small seeded generator, so a simulation with jitter gives the same figures every run. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The stages the app runs for a `@Resilient` method of `service`, built from the same resolved
 * settings by the same option recipes (config/policy-options.ts) and composed by the same
 * compose(), in the same order; only time (virtual), the limiter's store (memory) and the
 * letters' backend (a counter) are the simulation's own. A timeout fails an attempt at its
 * deadline, as the app's does (the recorded answer that would have come later is dropped).
 */
export function simulationPipeline(
  service: string,
  settings: ResolvedServiceConfig,
  time: VirtualTime,
  notes: string[],
): SimulatedPipeline {
  const stages: Stage[] = [];
  if (settings.rate.enabled) {
    const store = new MemoryRateLimitStore({ clock: time });
    const limiter = new RateLimiter({
      name: service,
      ...limiterRule(settings.rate),
      store,
      clock: time,
      sleep: time.sleep,
    });
    stages.push(rateLimitStage({ limiter }));
  }
  let letters = 0;
  if (settings.dlq.enabled) {
    const queue = new DeadLetterQueue({ name: settings.dlq.queue ?? service, backend: countingBackend(), clock: time });
    queue.onAdded(() => letters++);
    stages.push(deadLetterStage({ queue, rethrow: settings.dlq.rethrow, clock: time }));
  }
  const { scope, options } = breakerOptionsOf(settings.circuit);
  if (scope !== 'local') notes.push(`circuit scope '${scope}' is simulated as one replica's own breaker`);
  const breaker = new CircuitBreakerPolicy(service, { ...options, clock: time });
  stages.push(circuitBreakerStage(breaker));
  const { timeout, per, enabled: timeoutOn } = settings.timeout;
  if (timeoutOn && timeout !== undefined) stages.push(timeoutStage({ timeout, per, clock: time }));
  const retry = new RetryPolicy({
    ...retryOptionsOf(settings.retry),
    clock: time,
    sleep: time.sleep,
    random: seeded(1),
  });
  stages.push(retryStage(retry));
  let bulkhead: BulkheadPolicy | undefined;
  if (settings.bulkhead.enabled) {
    bulkhead = new BulkheadPolicy(service, { ...bulkheadOptionsOf(settings.bulkhead), clock: time, random: seeded(2) });
    stages.push(bulkheadStage(bulkhead));
  }
  return { next: compose(stages), breaker, bulkhead, letters: () => letters };
}

/** A backend that keeps no letter: the queue's checks and events run, nothing is held. */
function countingBackend(): DeadLetterBackend {
  let size = 0;
  const empty: ListPage = { items: [] };
  return {
    kind: 'simulation',
    add: async (_letter: DeadLetterRecord) => ++size,
    get: async () => undefined,
    update: async () => {},
    delete: async () => false,
    list: async () => empty,
    size: async () => size,
    oldest: async () => undefined,
    deleteOlderThan: async () => 0,
    purge: async () => {
      const purged = size;
      size = 0;
      return purged;
    },
    close: async () => {},
  };
}
