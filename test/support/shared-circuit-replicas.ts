import { after } from 'node:test';
import type { Redis } from 'ioredis';
import { ManualClock } from '../../lib/core/clock.js';
import { createRedisClient } from '../../lib/index.js';
import { CircuitFleet } from '../../lib/redis/shared-circuit/circuit-fleet.js';
import { QuorumCircuitBreaker } from '../../lib/redis/shared-circuit/quorum-breaker.js';
import {
  SharedCircuitBreaker,
  type SharedCircuitBreakerOptions,
} from '../../lib/redis/shared-circuit/shared-breaker.js';
import { testRedisUrl } from './redis.js';

// Replicas of one shared or quorum breaker for the tests: each its own connection to the
// test Redis, one ManualClock for the server's time and the replicas'; closed after the file.

const clients: Redis[] = [];
const fleets: CircuitFleet[] = [];
after(() => {
  for (const fleet of fleets) fleet.close();
  for (const client of clients) client.disconnect();
});

let run = 0;

/** `count` replicas of a shared breaker named 'payments'. */
export async function replicas(count: number, options: Omit<SharedCircuitBreakerOptions, 'fleet'>) {
  const clock = new ManualClock(1_000_000);
  const keyPrefix = `shared-test-${process.pid}-${++run}`;
  const breakers: SharedCircuitBreaker[] = [];
  for (let i = 0; i < count; i++) {
    const client = await createRedisClient({ url: testRedisUrl() });
    clients.push(client);
    const fleet = new CircuitFleet({ client, keyPrefix, serverClock: clock });
    fleets.push(fleet);
    breakers.push(new SharedCircuitBreaker('payments', { ...options, clock, fleet }));
  }
  await Promise.all(breakers.map((b) => b.refresh()));
  return { clock, breakers };
}

/** One more replica of `of`'s breaker, on a connection of its own, not yet started (as after a restart). */
export async function anotherReplica(
  of: SharedCircuitBreaker,
  clock: ManualClock,
  options: Omit<SharedCircuitBreakerOptions, 'fleet' | 'clock'>,
) {
  const client = await createRedisClient({ url: testRedisUrl() });
  clients.push(client);
  const channel = (of as unknown as { fleet: { channel: string } }).fleet.channel;
  const fleet = new CircuitFleet({ client, keyPrefix: channel.replace(':circuit-events', ''), serverClock: clock });
  fleets.push(fleet);
  return new SharedCircuitBreaker('payments', { ...options, clock, fleet });
}

/** `count` replicas of a quorum breaker named 'search' (failureThreshold 1, timeout 30). */
export async function quorumReplicas(count: number, quorum: { replicas?: number; percent?: number }) {
  const clock = new ManualClock(1_000_000);
  const keyPrefix = `quorum-test-${process.pid}-${++run}`;
  const breakers: QuorumCircuitBreaker[] = [];
  for (let i = 0; i < count; i++) {
    const client = await createRedisClient({ url: testRedisUrl() });
    clients.push(client);
    const fleet = new CircuitFleet({ client, keyPrefix, serverClock: clock });
    fleets.push(fleet);
    breakers.push(new QuorumCircuitBreaker('search', { failureThreshold: 1, timeout: 30, clock, fleet, quorum }));
  }
  await Promise.all(breakers.map((b) => b.beat()));
  return { clock, breakers };
}

export const boom = () => Promise.reject(new Error('down'));
export const ok = () => Promise.resolve('ok');
/** Fails the call (and waits for its report) without failing the test. */
export const fail = (b: SharedCircuitBreaker | QuorumCircuitBreaker) => b.execute(boom).catch((error: Error) => error);

/** Waits (2 s at most) until `check` holds. */
export async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
