import { bulkheadPattern } from './bulkhead.js';
import { circuitPattern } from './circuit.js';
import { dlqPattern } from './dlq.js';
import { ratePattern } from './rate.js';
import { retryPattern } from './retry.js';
import { timeoutPattern } from './timeout.js';

// The pattern table of the configuration: one entry per pattern, in the order its sections
// are listed (the order calls run through them is the pipeline's, lib/core/pipeline/order.ts).
// The schema's sections, the preset names it accepts, the presets and the base layer are
// read from here; a new pattern's settings are one file beside these and one entry below.

/**
 * A pattern's key in a section of settings. Spelt out (the table must hold exactly these,
 * each under its own key), so the public declarations name the patterns, not the table.
 */
export type PatternName = 'circuit' | 'retry' | 'rate' | 'dlq' | 'bulkhead' | 'timeout';

/** The table's type, by reference (its declaration names each descriptor instead of spelling it out). */
export interface PatternSettingsTable {
  circuit: typeof circuitPattern;
  retry: typeof retryPattern;
  rate: typeof ratePattern;
  dlq: typeof dlqPattern;
  bulkhead: typeof bulkheadPattern;
  timeout: typeof timeoutPattern;
}

export const PATTERN_SETTINGS: PatternSettingsTable = {
  circuit: circuitPattern,
  retry: retryPattern,
  rate: ratePattern,
  dlq: dlqPattern,
  bulkhead: bulkheadPattern,
  timeout: timeoutPattern,
} satisfies { [P in PatternName]: { key: P } };

export const PATTERN_NAMES = Object.keys(PATTERN_SETTINGS) as PatternName[];

/** What a pattern may add to the generic layering of its settings (lib/config/layer-stack.ts). */
export interface LayeringHooks {
  /** Adjusts one layer's own fields (`preset`: the preset that layer named, if any). */
  ownLayer?(fields: Record<string, unknown>, preset: string | undefined): Record<string, unknown>;
  /** Its tier-table layer is its preset named after the tier, instead of the tier table's section. */
  tierPresets?: boolean;
  /** A section the application writes turns the pattern on, unless it says `enabled: false`. */
  sectionTurnsOn?: boolean;
  /** Corrects the merged settings, knowing every layer (lowest first). */
  afterMerge?(merged: Record<string, unknown>, layers: readonly object[]): void;
}

export function layeringOf(pattern: PatternName): LayeringHooks {
  // A descriptor holds the hooks it needs, none of them required (a weak type: checked here by hand).
  return PATTERN_SETTINGS[pattern] as LayeringHooks;
}

export { bulkheadPattern, circuitPattern, dlqPattern, ratePattern, retryPattern, timeoutPattern };
