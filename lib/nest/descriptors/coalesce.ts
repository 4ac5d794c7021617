import { stringify } from 'safe-stable-stringify';
import { z } from 'zod';
import { fn, strict } from '../../config/schema-parts.js';
import { type CoalesceOutcome, coalesceStage } from '../../core/coalesce/coalesce-stage.js';
import type { ResilienceContext } from '../../core/pipeline/context.js';
import { definePattern } from './pattern-descriptor.js';

const coalesceOptions = strict({
  /** The calls that may share an execution return the same key; undefined runs the call alone. Default: the arguments' stable serialization. */
  // biome-ignore lint/suspicious/noExplicitAny: the key function receives the method's own arguments
  key: fn<(...args: any[]) => string | undefined>('key'),
  /** Executions in flight at most; beyond, calls run alone. Default 10,000. */
  maxKeys: z.number().int().min(1),
}).partial();

/** The arguments' stable serialization: equal for deeply equal arguments, whatever their key order. */
export function argumentsKey(context: ResilienceContext): string | undefined {
  try {
    return stringify(context.args);
  } catch {
    // A getter that throws, a BigInt with no serializer: the call is not coalesced.
    return undefined;
  }
}

export type CoalesceOptions = z.input<typeof coalesceOptions>;

/** Request coalescing: a pattern defined through its descriptor alone (lib/nest/descriptors). */
export const coalescePattern = definePattern<z.output<typeof coalesceOptions>, { outcome: CoalesceOutcome }>({
  name: 'coalesce',
  kind: 'coalesce',
  schema: coalesceOptions,
  stage({ options, emit }) {
    const key = options.key;
    return coalesceStage({
      key: key ? (context) => key(...context.args) : argumentsKey,
      maxKeys: options.maxKeys,
      onCoalesce: (outcome) => emit({ outcome }),
    });
  },
  metrics: [
    {
      name: 'coalesced_total',
      help: 'Calls that joined another identical call in flight (joined), or ran alone because the map was full (overflow)',
      labels: ['outcome'],
    },
  ],
  spanEvent: 'resilience.coalesce',
});

/**
 * Concurrent identical calls (same `key`, default: deeply equal arguments) share one
 * execution and its result or error. Nothing is kept after it settles: not a cache. A caller
 * that gives up (its signal aborts) stops waiting; the execution stops only when nobody waits.
 */
export const Coalesce = (options: CoalesceOptions = {}): MethodDecorator => coalescePattern.decorator(options);
