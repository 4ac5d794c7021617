/** A min-heap of (time, id) events, earliest first; of two at one time, the smaller id (the one pushed first). */
export class EventHeap {
  private times = new Float64Array(1024);
  private ids = new Int32Array(1024);
  size = 0;

  push(time: number, id: number): void {
    if (this.size === this.times.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent] < time || (this.times[parent] === time && this.ids[parent] < id)) break;
      this.times[i] = this.times[parent];
      this.ids[i] = this.ids[parent];
      i = parent;
    }
    this.times[i] = time;
    this.ids[i] = id;
  }

  /** The earliest event's time (Infinity when empty). */
  peekTime(): number {
    return this.size > 0 ? this.times[0] : Number.POSITIVE_INFINITY;
  }

  /** The earliest event's id (only when size > 0). */
  peekId(): number {
    return this.ids[0];
  }

  /** Removes the earliest event; returns its id. */
  pop(): number {
    const top = this.ids[0];
    const lastTime = this.times[--this.size];
    const lastId = this.ids[this.size];
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && this.before(right, left) ? right : left;
      if (this.times[child] > lastTime || (this.times[child] === lastTime && this.ids[child] > lastId)) break;
      this.times[i] = this.times[child];
      this.ids[i] = this.ids[child];
      i = child;
    }
    this.times[i] = lastTime;
    this.ids[i] = lastId;
    return top;
  }

  private before(a: number, b: number): boolean {
    return this.times[a] < this.times[b] || (this.times[a] === this.times[b] && this.ids[a] < this.ids[b]);
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    this.times = times;
    this.ids = ids;
  }
}
