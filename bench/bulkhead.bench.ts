import { bulkhead as cockatielBulkhead } from 'cockatiel';
import { type Waiter, WaiterQueue } from '../lib/core/bulkhead/waiters.js';
import { DeadlineQueue } from '../lib/core/deadline-queue.js';
import { BulkheadPolicy, CircuitBreakerPolicy } from '../lib/index.js';
import { check, formatTable, measure } from './harness.js';

const noop = () => {};
const work = async () => 1;

/**
 * `total` calls through a limit-1 bulkhead whose queue stays `depth` deep: a slot is held
 * while `depth` calls queue, then each admitted call queues one more before it ends (one
 * in, one out), until `total` calls have run. The cost per call at that queue depth.
 */
function steadyQueue(bulkhead: BulkheadPolicy, depth: number, total: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let toStart = total - depth;
    let pending = 0;
    const settle = () => {
      if (--pending === 0) resolve();
    };
    const enter = () => {
      pending++;
      bulkhead.execute(step).then(settle, settle);
    };
    const step = () => {
      if (toStart-- > 0) enter();
      return 1;
    };
    let release!: () => void;
    pending++;
    bulkhead.execute(() => new Promise<void>((r) => (release = r))).then(settle, settle);
    for (let i = 0; i < depth; i++) enter();
    release();
  });
}

/** The same steady queue with no bulkhead: a plain array of pending promises (what holding them costs V8). */
function steadyFloor(depth: number, total: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const queue: ((value: number) => void)[] = [];
    let head = 0;
    let toStart = total - depth;
    let pending = 0;
    const settle = () => {
      if (--pending === 0) resolve();
    };
    const next = () => {
      if (head >= queue.length) return;
      const admit = queue[head++];
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      admit(1);
    };
    const step = () => {
      if (toStart-- > 0) enter();
      next();
      return 1;
    };
    const enter = () => {
      pending++;
      new Promise<number>((admit) => queue.push(admit)).then(step).then(settle, settle);
    };
    for (let i = 0; i < depth; i++) enter();
    next();
  });
}

/** The bulkhead's own structures alone (its waiter FIFO and deadline queue), `depth` deep, one in one out per op. */
function structuresOnly(depth: number, total: number): void {
  const waiting = new WaiterQueue();
  const deadlines = new DeadlineQueue();
  const at = Date.now() + 3_600_000;
  const waiter = (): Waiter => ({ at, settled: false, admit: noop, cancel: noop, expire: noop });
  for (let i = 0; i < depth; i++) {
    const w = waiter();
    waiting.push(w);
    deadlines.push(w);
  }
  for (let i = 0; i < total; i++) {
    const out = waiting.shift() as Waiter;
    deadlines.settle(out);
    const w = waiter();
    waiting.push(w);
    deadlines.push(w);
  }
  // Settle the rest, so the deadline timer no longer holds the process.
  for (let w = waiting.shift(); w; w = waiting.shift()) deadlines.settle(w);
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
    'ours: enqueue + dequeue, 10 queued': (n) => steadyQueue(small, 10, n),
    'ours: enqueue + dequeue, 100,000 queued': (n) => steadyQueue(large, 100_000, n),
    'floor: plain array of pending promises, 10 queued': (n) => steadyFloor(10, n),
    'floor: plain array of pending promises, 100,000 queued': (n) => steadyFloor(100_000, n),
    'ours, structures only (waiter FIFO + deadline queue), 10 queued': (n) => structuresOnly(10, n),
    'ours, structures only (waiter FIFO + deadline queue), 100,000 queued': (n) => structuresOnly(100_000, n),
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
    check(
      '(context) floor, plain array of pending promises: 100,000 / 10',
      r('floor: plain array of pending promises, 100,000 queued'),
      r('floor: plain array of pending promises, 10 queued'),
      1.5,
    ),
    check(
      'the queue structures alone: 100,000 queued / 10 queued',
      r('ours, structures only (waiter FIFO + deadline queue), 100,000 queued'),
      r('ours, structures only (waiter FIFO + deadline queue), 10 queued'),
      1.5,
    ),
  ]);
}
