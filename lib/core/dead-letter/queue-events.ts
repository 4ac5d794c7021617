import { EventSource } from '../events.js';
import type { DamagedLetter, DeadLetterRecord } from './types.js';

/** What a dead-letter queue tells: as typed events (onAdded...) and as Node events ('added'...). */
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
