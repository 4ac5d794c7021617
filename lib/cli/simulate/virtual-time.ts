import type { Clock, ClockTimers } from '../../core/clock.js';
import type { Sleep } from '../../core/retry/sleep.js';
import { EventHeap } from './event-heap.js';

/** One macrotask turn: every promise reaction started before it has run when it resolves. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs the promise reactions pending now, synchronously, when the runtime can (Node's own
 * drain of the microtask queue, called from a macrotask); undefined when it cannot, or when a
 * probe chain is not complete after it (then each drain is a macrotask turn: 5 to 10 times slower).
 */
function synchronousDrain(): (() => void) | undefined {
  const drain = (process as unknown as { _tickCallback?: () => void })._tickCallback;
  if (typeof drain !== 'function') return undefined;
  let done = false;
  Promise.resolve()
    .then(() => undefined)
    .then(() => {
      done = true;
    });
  drain.call(process);
  return done ? () => drain.call(process) : undefined;
}

/**
 * Drives `steps`, draining the promise reactions at each step it yields: in one macrotask
 * with a synchronous drain when available, else with a macrotask turn per step.
 */
export function drive(steps: Generator<void, void, void>): Promise<void> {
  return new Promise((resolve, reject) => {
    setImmediate(async () => {
      try {
        const drain = synchronousDrain();
        if (drain) for (const _ of steps) drain();
        else for (const _ of steps) await turn();
        resolve();
      } catch (error) {
        reject(error);
      }
    });
  });
}

/**
 * Time that moves only when the replay moves it: a clock with timers of its own, and a sleep
 * on them. The policies of a simulation get it as their clock (deadlines, queue timeouts and
 * call timeouts run on its timers) and their sleep (backoffs, a limiter's wait), so the real
 * pipeline runs on recorded time, as fast as the machine allows. `advanceTo` yields where the
 * promise reactions a timer started must run before time moves on (see drive()).
 */
export class VirtualTime implements Clock {
  private current: number;
  private readonly heap = new EventHeap();
  private readonly callbacks: ((() => void) | undefined)[] = [];

  readonly timers: ClockTimers = {
    setTimeout: (callback, ms) => this.schedule(callback, ms),
    clearTimeout: (handle) => {
      this.callbacks[handle as number] = undefined;
    },
  };

  readonly sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        this.timers.clearTimeout(id);
        reject(signal?.reason);
      };
      const id = this.schedule(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Runs `callback` when the time reaches now + `ms`; returns its handle. */
  schedule(callback: () => void, ms: number): number {
    const id = this.callbacks.length;
    this.callbacks.push(callback);
    this.heap.push(this.current + Math.max(0, ms), id);
    return id;
  }

  /** When the next timer is due (Infinity when none is). */
  nextAt(): number {
    this.dropCancelled();
    return this.heap.peekTime();
  }

  /**
   * Moves the time to `t`, running every timer due by then in time order (of two due at one
   * instant, the one set first), each followed by the promise reactions it started, as Node
   * runs timers: a slot freed at the instant a queued call's deadline falls is free first when
   * its release was scheduled first.
   */
  *advanceTo(t: number): Generator<void, void, void> {
    for (;;) {
      const at = this.nextAt();
      if (at > t) break;
      this.current = at;
      const id = this.heap.pop();
      const callback = this.callbacks[id];
      this.callbacks[id] = undefined;
      callback?.();
      yield;
    }
    if (t > this.current) this.current = t;
  }

  private dropCancelled(): void {
    while (this.heap.size > 0 && this.callbacks[this.peekId()] === undefined) this.heap.pop();
  }

  private peekId(): number {
    return this.heap.peekId();
  }
}
