import { z } from 'zod';
import { errorMatcher, errorMatchers, fn, strict } from '../../config/schema-parts.js';
import { type FallbackHandler, fallbackStage } from '../../core/pipeline/fallback-stage.js';
import { definePattern } from './pattern-descriptor.js';

const fallbackOptions = strict({
  /** `(error, args) => result`: what the call returns instead (a promise is awaited). */
  handler: fn<FallbackHandler>('handler'),
  /** The call's result instead, whatever the error (when there is no handler). */
  value: z.unknown(),
  /** Which errors it answers for (names, families, classes, predicates). Default: every error. */
  handle: z.union([errorMatcher, errorMatchers]),
}).partial();

/**
 * The fallback, moved onto its descriptor (it was a stage factory, a metadata key, a metrics
 * binding and a tracing binding of its own): outermost in the order, decorator `@Fallback`, a
 * `patterns.fallback` section (a `value` a service answers with), `fallbacks_total{service,
 * outcome}`, span event `resilience.fallback`.
 */
export const fallbackPattern = definePattern<z.output<typeof fallbackOptions>, { outcome: 'answered' | 'failed' }>({
  name: 'fallback',
  kind: 'fallback',
  schema: fallbackOptions,
  stage({ options, emit }) {
    const { handler, handle } = options;
    // A section that only narrows `handle` answers nothing.
    if (handler === undefined && !('value' in options)) return undefined;
    const value = options.value;
    return fallbackStage({
      fallback: handler ?? (() => value),
      handle,
      onFallback: (outcome) => emit({ outcome }),
    });
  },
  metrics: [
    {
      name: 'fallbacks_total',
      help: 'Failed calls a fallback answered (outcome answered) or that its handler failed too (outcome failed)',
      labels: ['outcome'],
    },
  ],
  spanEvent: 'resilience.fallback',
});
