import type { Clock, ClockTimers } from '../../lib/core/index.js';

/** A clock with timers of its own: time moves, and due timers run, only in `advance`. */
export class TimedClock implements Clock {
  private current = 0;
  private pending: { at: number; run: () => void }[] = [];
  readonly timers: ClockTimers = {
    setTimeout: (run, ms) => {
      const timer = { at: this.current + ms, run };
      this.pending.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      this.pending = this.pending.filter((t) => t !== handle);
    },
  };
  now(): number {
    return this.current;
  }
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      const due = this.pending.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.pending = this.pending.filter((t) => t !== due);
      this.current = due.at;
      due.run();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.current = end;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
