import { EventSource, type Unsubscribe } from '../events.js';
import type { DamagedLetter, DeadLetterRecord } from './types.js';

/** What a dead-letter queue tells: as typed events (onAdded...), also reachable by name (on('added')). */
export interface DeadLetterQueueEvents {
  added: [DeadLetterRecord];
  alert: [{ queue: string; size: number; threshold: number }];
  recovered: [{ queue: string; size: number; threshold: number }];
  replayed: [{ letter: DeadLetterRecord; succeeded: boolean }];
  damaged: [DamagedLetter & { queue: string }];
}

export type DeadLetterQueueEventName = keyof DeadLetterQueueEvents;

/** One EventSource per event of a queue. */
export type QueueEventSources = { [K in DeadLetterQueueEventName]: EventSource<DeadLetterQueueEvents[K][0]> };

export function queueEventSources(): QueueEventSources {
  return {
    added: new EventSource(),
    alert: new EventSource(),
    recovered: new EventSource(),
    replayed: new EventSource(),
    damaged: new EventSource(),
  };
}

type QueueListener<K extends DeadLetterQueueEventName> = (data: DeadLetterQueueEvents[K][0]) => void;

/**
 * `queue.on('added', listener)` as it was when the queue was an EventEmitter: each is a
 * subscription to the typed event of that name, so there is one delivery path.
 */
export class NamedSubscriptions {
  private readonly entries: { name: DeadLetterQueueEventName; listener: unknown; stop: Unsubscribe }[] = [];

  constructor(private readonly sources: QueueEventSources) {}

  add<K extends DeadLetterQueueEventName>(name: K, listener: QueueListener<K>, once = false): void {
    const source = this.sources[name] as EventSource<DeadLetterQueueEvents[K][0]>;
    const entry = { name, listener, stop: (() => {}) as Unsubscribe };
    entry.stop = source.event(
      once
        ? (data) => {
            this.remove(name, listener);
            listener(data);
          }
        : listener,
    );
    this.entries.push(entry);
  }

  /** Removes the most recent subscription of `listener` to `name`, as EventEmitter's off does. */
  remove<K extends DeadLetterQueueEventName>(name: K, listener: QueueListener<K>): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      if (entry.name === name && entry.listener === listener) {
        entry.stop();
        this.entries.splice(i, 1);
        return;
      }
    }
  }
}
