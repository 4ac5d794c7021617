import { OrderedIndex } from './ordered-index.js';
import {
  type DeadLetterBackend,
  type DeadLetterRecord,
  type ListOptions,
  type ListPage,
  matchesFilter,
} from './types.js';

/** Letters in this process (development, tests): size O(1), a page O(page) whatever the queue holds. */
export class MemoryDeadLetterBackend implements DeadLetterBackend {
  readonly kind = 'memory';
  private readonly index = new OrderedIndex<DeadLetterRecord>();

  async add(letter: DeadLetterRecord): Promise<number> {
    if (this.index.has(letter.id)) throw new Error(`dead letter ${letter.id} already exists`);
    this.index.set(letter.id, structuredClone(letter));
    return this.index.size;
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    const letter = this.index.get(id);
    return letter ? structuredClone(letter) : undefined;
  }

  async update(letter: DeadLetterRecord): Promise<void> {
    if (!this.index.has(letter.id)) throw new Error(`dead letter ${letter.id} does not exist`);
    this.index.set(letter.id, structuredClone(letter));
  }

  async delete(id: string): Promise<boolean> {
    return this.index.delete(id);
  }

  async list({ filter, limit = 50, cursor }: ListOptions, now: number): Promise<ListPage> {
    const { items, more } = this.index.page(cursor, limit, (letter) => matchesFilter(letter, filter, now));
    const letters = items.map(([, letter]) => structuredClone(letter));
    return more ? { items: letters, next: letters[letters.length - 1].id } : { items: letters };
  }

  async size(): Promise<number> {
    return this.index.size;
  }

  async oldest(): Promise<DeadLetterRecord | undefined> {
    const first = this.index.first();
    return first ? structuredClone(first[1]) : undefined;
  }

  async deleteOlderThan(epochMs: number): Promise<number> {
    let removed = 0;
    for (let first = this.index.first(); first && first[1].createdAt < epochMs; first = this.index.first()) {
      this.index.delete(first[0]);
      removed++;
    }
    return removed;
  }

  async purge(): Promise<number> {
    const count = this.index.size;
    this.index.clear();
    return count;
  }

  async close(): Promise<void> {}
}
