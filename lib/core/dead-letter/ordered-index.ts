/**
 * Entries by id, oldest first: an array with tombstones plus a position per id, so
 * add, delete, size and the first entry are O(1) (amortized) and a page from a cursor
 * is O(page). Ids must sort in insertion order (see letterId).
 */
export class OrderedIndex<T> {
  private order: (string | undefined)[] = [];
  private head = 0;
  private readonly entries = new Map<string, { value: T; position: number }>();

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): T | undefined {
    return this.entries.get(id)?.value;
  }

  /** Adds, or replaces the value of an id already there (keeping its place). */
  set(id: string, value: T): void {
    const entry = this.entries.get(id);
    if (entry) {
      entry.value = value;
      return;
    }
    this.entries.set(id, { value, position: this.order.length });
    this.order.push(id);
  }

  delete(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.order[entry.position] = undefined;
    while (this.head < this.order.length && this.order[this.head] === undefined) this.head++;
    this.compact();
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.order = [];
    this.head = 0;
  }

  first(): [string, T] | undefined {
    const id = this.order[this.head];
    return id === undefined ? undefined : [id, (this.entries.get(id) as { value: T }).value];
  }

  /** Up to `limit` entries after `cursor` (from the oldest without one) that `accept` keeps. */
  page(
    cursor: string | undefined,
    limit: number,
    accept: (value: T) => boolean,
  ): { items: [string, T][]; more: boolean } {
    let i = cursor === undefined ? this.head : this.positionAfter(cursor);
    const items: [string, T][] = [];
    for (; i < this.order.length && items.length < limit; i++) {
      const id = this.order[i];
      if (id === undefined) continue;
      const { value } = this.entries.get(id) as { value: T };
      if (accept(value)) items.push([id, value]);
    }
    let more = false;
    for (let j = i; j < this.order.length; j++) {
      if (this.order[j] !== undefined) {
        more = true;
        break;
      }
    }
    return { items, more: more && items.length === limit };
  }

  *values(): IterableIterator<[string, T]> {
    for (let i = this.head; i < this.order.length; i++) {
      const id = this.order[i];
      if (id !== undefined) yield [id, (this.entries.get(id) as { value: T }).value];
    }
  }

  /** The position just after `cursor`, even if that entry was deleted meanwhile. */
  private positionAfter(cursor: string): number {
    const entry = this.entries.get(cursor);
    if (entry) return entry.position + 1;
    let low = this.head;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      let j = mid;
      while (j < this.order.length && this.order[j] === undefined) j++;
      const id = this.order[j];
      if (id !== undefined && id <= cursor) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private compact(): void {
    if (this.order.length < 1024 || this.entries.size * 2 > this.order.length) return;
    this.order = this.order.filter((id) => id !== undefined);
    this.head = 0;
    this.order.forEach((id, position) => {
      (this.entries.get(id as string) as { position: number }).position = position;
    });
  }
}
