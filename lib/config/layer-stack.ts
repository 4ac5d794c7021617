import { mergeLayers } from './merge.js';
import { layeringOf, PATTERN_SETTINGS } from './patterns/index.js';
import { type PatternName, presets } from './presets.js';
import type {
  ResolvedBulkheadSettings,
  ResolvedCircuitSettings,
  ResolvedDlqSettings,
  ResolvedRateSettings,
  ResolvedRetrySettings,
  ResolvedTimeoutSettings,
} from './resolved-types.js';
import type { EnvironmentName, PatternSettings } from './types.js';

/** What layering one pattern gives: the base supplies its required fields (a dlq's queue and storage come later). */
export interface Layered {
  bulkhead: ResolvedBulkheadSettings;
  timeout: ResolvedTimeoutSettings;
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
  timeout: PATTERN_SETTINGS.timeout.base,
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
    const { preset, why: _why, ...fields } = l.settings as { preset?: string; why?: string } & Record<string, unknown>;
    if (preset) {
      const values = (presets[pattern] as Record<string, object>)[preset];
      expanded.push({ source: `${l.source} (preset ${preset})`, settings: values, why: l.why });
    }
    const own = layeringOf(pattern).ownLayer?.(fields, preset) ?? fields;
    expanded.push({ source: l.source, settings: own, why: l.why });
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
  layeringOf(pattern).afterMerge?.(merged as Record<string, unknown>, settings);
  return merged;
}

/** The tier table's layer of a pattern: the guide's table, or the pattern's preset named after the tier. */
export function tierTable(tier: string, pattern: PatternName): object | undefined {
  if (layeringOf(pattern).tierPresets) {
    return tier in presets.tiers ? (presets[pattern] as Record<string, object>)[tier] : undefined;
  }
  return (presets.tiers as Record<string, PatternSettings>)[tier]?.[pattern];
}

/** A section the application writes, as a layer: it turns on a pattern that is off until asked for (see LayeringHooks). */
export function ownSection(pattern: PatternName, settings: object | undefined): object | undefined {
  if (!layeringOf(pattern).sectionTurnsOn || !settings || 'enabled' in settings) return settings;
  return { ...settings, enabled: true };
}
