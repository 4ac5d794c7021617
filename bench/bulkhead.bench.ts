import { bulkhead as cockatielBulkhead } from 'cockatiel';
import { BulkheadPolicy, CircuitBreakerPolicy } from '../lib/index.js';
import { check, formatTable, measure } from './harness.js';

const noop = () => {};
const work = async () => 1;

/** Fills a limit-1 bulkhead's queue with `size` calls behind a held slot, then lets them all run. */
async function fillAndDrain(bulkhead: BulkheadPolicy, size: number): Promise<void> {
  let release!: () => void;
  const held = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
  const queued: Promise<number>[] = new Array(size);
  for (let i = 0; i < size; i++) queued[i] = bulkhead.execute(work);
  release();
  await held;
  await Promise.all(queued);
}

export async function benchBulkhead(): Promise<string> {
  const ours = new BulkheadPolicy('bench', { maxConcurrent: 10 });
  const theirs = cockatielBulkhead(10);
  const breaker = new CircuitBreakerPolicy('bench');
  // Full: one slot held for good, no queue.
  const oursFull = new BulkheadPolicy('full', { maxConcurrent: 1 });
  void oursFull.execute(() => new Promise(noop));
  const theirsFull = cockatielBulkhead(1);
  void theirsFull.execute(() => new Promise(noop));
  const small = new BulkheadPolicy('q10', { maxConcurrent: 1, maxQueue: 10, queueTimeout: 60 });
  const large = new BulkheadPolicy('q100k', { maxConcurrent: 1, maxQueue: 100_000, queueTimeout: 60 });

  const results = await measure({
    'bare await fn()': async (n) => {
      for (let i = 0; i < n; i++) await work();
    },
    'ours: free slot': async (n) => {
      for (let i = 0; i < n; i++) await ours.execute(work);
    },
    'cockatiel bulkhead(10): free slot': async (n) => {
      for (let i = 0; i < n; i++) await theirs.execute(work);
    },
    'ours: circuit breaker closed success': async (n) => {
      for (let i = 0; i < n; i++) await breaker.execute(work);
    },
    'ours: rejection when full': async (n) => {
      for (let i = 0; i < n; i++) await oursFull.execute(work).catch(noop);
    },
    'cockatiel: rejection when full': async (n) => {
      for (let i = 0; i < n; i++) await theirsFull.execute(work).catch(noop);
    },
    'ours: enqueue + dequeue, 10 queued': async (n) => {
      for (let i = 0; i < n / 10; i++) await fillAndDrain(small, 10);
    },
    'ours: enqueue + dequeue, 100,000 queued': async (n) => {
      for (let i = 0; i < n / 100_000; i++) await fillAndDrain(large, 100_000);
    },
  });

  const r = (name: string) => results[name];
  return formatTable('Bulkhead (issue 16)', results, [
    check('free slot: ours / cockatiel', r('ours: free slot'), r('cockatiel bulkhead(10): free slot'), 0.5),
    check(
      'free slot: ours / the breaker’s closed path',
      r('ours: free slot'),
      r('ours: circuit breaker closed success'),
      1.3,
    ),
    check('rejection: ours / cockatiel', r('ours: rejection when full'), r('cockatiel: rejection when full'), 0.25),
    check(
      'enqueue + dequeue: 100,000 queued / 10 queued',
      r('ours: enqueue + dequeue, 100,000 queued'),
      r('ours: enqueue + dequeue, 10 queued'),
      1.5,
    ),
  ]);
}
