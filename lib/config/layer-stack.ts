import { mergeLayers } from './merge.js';
import { PATTERN_SETTINGS } from './patterns/index.js';
import { type PatternName, presets } from './presets.js';
import type {
  ResolvedBulkheadSettings,
  ResolvedCircuitSettings,
  ResolvedDlqSettings,
  ResolvedRateSettings,
  ResolvedRetrySettings,
} from './resolved-types.js';
import type { EnvironmentName, PatternSettings } from './types.js';

/** What layering one pattern gives: the base supplies its required fields (a dlq's queue and storage come later). */
export interface Layered {
  bulkhead: ResolvedBulkheadSettings;
  circuit: ResolvedCircuitSettings;
  retry: ResolvedRetrySettings;
  rate: ResolvedRateSettings;
  dlq: Omit<ResolvedDlqSettings, 'queue' | 'storageConfig'> &
    Partial<Pick<ResolvedDlqSettings, 'queue' | 'storageConfig'>>;
}

/** The layer under everything: each pattern's `base` in the pattern table. */
export const BASE: { [P in PatternName]: Layered[P] } = {
  circuit: PATTERN_SETTINGS.circuit.base,
  retry: PATTERN_SETTINGS.retry.base,
  rate: PATTERN_SETTINGS.rate.base,
  dlq: PATTERN_SETTINGS.dlq.base,
  bulkhead: PATTERN_SETTINGS.bulkhead.base,
};

/** The guide's environment-specific configurations, by environment. */
export const PROFILES: Record<EnvironmentName, PatternSettings> = {
  development: {
    circuit: presets.circuit.development,
    retry: presets.retry.development,
    rate: presets.rate.development,
    dlq: presets.dlq.development,
  },
  staging: { circuit: presets.circuit.staging },
  production: {
    circuit: presets.circuit.production,
    retry: presets.retry.production,
    rate: presets.rate.production,
    dlq: presets.dlq.production,
  },
};

/** One layer of a pattern's settings and where it comes from (shown by `check --explain`). */
export interface NamedLayer {
  /** E.g. 'base', 'environment profile (production)', 'tiers.critical', 'services.payments'. */
  source: string;
  settings: object | undefined;
  /** The `why` note of the section the settings came from (the pattern's own, else its parent's). */
  why?: string;
}

/**
 * The layers of one pattern, lowest first, as they are merged: the base, then each given
 * layer with a `preset` expanded under that layer's own fields. `why` keys are dropped
 * from the settings (a note for people, never a setting).
 */
export function expandLayers(pattern: PatternName, layers: ReadonlyArray<NamedLayer>): NamedLayer[] {
  const expanded: NamedLayer[] = [{ source: 'base', settings: BASE[pattern] }];
  for (const l of layers) {
    if (!l.settings) continue;
    const {
      preset,
      why: _why,
      ...fields
    } = l.settings as { preset?: string; why?: string; rate?: number; burst?: number };
    if (preset) {
      const values = (presets[pattern] as Record<string, object>)[preset];
      expanded.push({ source: `${l.source} (preset ${preset})`, settings: values, why: l.why });
    }
    // A burst belongs to its rate: a layer that sets a rate without a burst has none,
    // rather than inheriting one sized for another rate.
    const own = pattern === 'rate' && !preset && fields.rate !== undefined && fields.burst === undefined;
    expanded.push({ source: l.source, settings: own ? { ...fields, burst: 0 } : fields, why: l.why });
  }
  return expanded;
}

/** Layers one pattern's settings (later wins); a layer's `preset` expands under that layer's own fields. */
export function layer<P extends PatternName>(pattern: P, layers: ReadonlyArray<object | undefined>): Layered[P] {
  return mergeNamed(
    pattern,
    expandLayers(
      pattern,
      layers.map((settings) => ({ source: '', settings })),
    ),
  );
}

/** Merges expanded layers into the settings they give. */
export function mergeNamed<P extends PatternName>(pattern: P, expanded: NamedLayer[]): Layered[P] {
  const settings = expanded.map((l) => l.settings as object);
  const merged = mergeLayers<Layered[P]>(...settings);
  if (pattern === 'circuit' && rateModeOutranksCount(settings)) delete (merged as Layered['circuit']).failureThreshold;
  return merged;
}

/** The tier table's layer of a pattern: the guide's table, and our bulkhead per tier (the guide has none). */
export function tierTable(tier: string, pattern: PatternName): object | undefined {
  if (pattern === 'bulkhead')
    return tier in presets.tiers ? (presets.bulkhead as Record<string, object>)[tier] : undefined;
  return (presets.tiers as Record<string, PatternSettings>)[tier]?.[pattern];
}

/**
 * The tier table's bulkhead values apply once a bulkhead is on; a `bulkhead` section the
 * application writes (defaults, tiers, services, call sites) turns it on unless it says
 * `enabled: false`: a setting written is never ignored, and none is on by surprise.
 */
export function ownBulkhead(pattern: PatternName, settings: object | undefined): object | undefined {
  if (pattern !== 'bulkhead' || !settings || 'enabled' in settings) return settings;
  return { ...settings, enabled: true };
}

/**
 * A consecutive `failureThreshold` belongs to the count mode: once a layer asks for rate
 * mode (a failure or slow-call rate threshold) without setting one, the one inherited
 * from below (the base's 5, a preset's) no longer applies, so a breaker with
 * `minimumCalls: 50` does not open at the 5th failure. A layer at or above it can set one.
 */
function rateModeOutranksCount(layers: object[]): boolean {
  let rate = -1;
  let count = -1;
  for (const [index, l] of layers.entries()) {
    const fields = l as Record<string, unknown>;
    if (fields.failureRateThreshold !== undefined || fields.slowCallRateThreshold !== undefined) rate = index;
    if (fields.failureThreshold !== undefined) count = index;
  }
  return rate > count;
}
