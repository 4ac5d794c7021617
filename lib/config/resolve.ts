import { type ConfigIssue, ResilienceConfigError } from '../core/errors.js';
import { crossCheck } from './cross-check.js';
import { formatZodIssues } from './format-issues.js';
import { mergeLayers } from './merge.js';
import { type PatternName, presets } from './presets.js';
import type {
  ResolvedBulkheadSettings,
  ResolvedCircuitSettings,
  ResolvedDlqSettings,
  ResolvedPatterns,
  ResolvedRateSettings,
  ResolvedRetrySettings,
  ResolvedServiceConfig,
} from './resolved-types.js';
import { configSchema } from './schema.js';
import type { EnvironmentName, PatternSettings, RateSettings, ResilienceConfig } from './types.js';

/** What layering one pattern gives: the base supplies its required fields (a dlq's queue and storage come later). */
export interface Layered {
  bulkhead: ResolvedBulkheadSettings;
  circuit: ResolvedCircuitSettings;
  retry: ResolvedRetrySettings;
  rate: ResolvedRateSettings;
  dlq: Omit<ResolvedDlqSettings, 'queue' | 'storageConfig'> &
    Partial<Pick<ResolvedDlqSettings, 'queue' | 'storageConfig'>>;
}

/** The layer under everything: the tier table's breaker and policies take the guide's class defaults. */
const BASE: { [P in PatternName]: Layered[P] } = {
  circuit: { failureThreshold: 5, successThreshold: 2, timeout: 60, halfOpenMaxCalls: 1, enabled: true },
  retry: { maxAttempts: 3, baseDelay: 1, maxDelay: 60, exponentialBase: 2, jitter: true, enabled: true },
  rate: {
    rate: 100,
    per: 60,
    burst: 20,
    strategy: 'token_bucket',
    key: 'global',
    ipv6Subnet: 64,
    apiKeyHeader: 'x-api-key',
    mode: 'reject',
    enabled: true,
  },
  dlq: {
    storageBackend: 'memory',
    maxRetryAttempts: 3,
    retentionDays: 7,
    alertThreshold: 100,
    rethrow: true,
    enabled: true,
  },
  // Off unless a layer turns it on: an upgrade never starts shedding load nobody asked for.
  bulkhead: { maxConcurrent: 10, maxQueue: 0, queueTimeout: 1, enabled: false },
};

/** The guide's environment-specific configurations, by environment. */
const PROFILES: Record<EnvironmentName, PatternSettings> = {
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

const ENVIRONMENTS = new Set<string>(['development', 'staging', 'production']);
export const DEFAULT_TIER = 'standard';
/** `<service>@rollout` names the rollout arm of a service as if it were a service of its own. */
export { checkRetryDelays } from './cross-check.js';

export const ROLLOUT_SUFFIX = '@rollout';

/** Validates shape, types and ranges; returns the normalized config (durations in seconds) or every problem. */
export function parseResilienceConfig(
  raw: unknown,
): { ok: true; config: ResilienceConfig } | { ok: false; issues: ConfigIssue[] } {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  // Cross-field checks run on the raw input too, so one error lists every problem at once.
  const issues = [...(result.success ? [] : formatZodIssues(result.error.issues)), ...crossCheck(raw)];
  return result.success && issues.length === 0 ? { ok: true, config: result.data } : { ok: false, issues };
}

/** Layers one pattern's settings; a layer's `preset` expands under that layer's own fields. */
export function layer<P extends PatternName>(pattern: P, layers: ReadonlyArray<object | undefined>): Layered[P] {
  const expanded: object[] = [BASE[pattern]];
  for (const l of layers) {
    if (!l) continue;
    const { preset, ...fields } = l as { preset?: string; rate?: number; burst?: number };
    if (preset) expanded.push((presets[pattern] as Record<string, object>)[preset]);
    // A burst belongs to its rate: a layer that sets a rate without a burst has none,
    // rather than inheriting one sized for another rate.
    if (pattern === 'rate' && !preset && fields.rate !== undefined && fields.burst === undefined) {
      expanded.push({ ...fields, burst: 0 });
    } else {
      expanded.push(fields);
    }
  }
  const merged = mergeLayers<Layered[P]>(...expanded);
  if (pattern === 'circuit' && rateModeOutranksCount(expanded)) delete (merged as Layered['circuit']).failureThreshold;
  return merged;
}

/** The tier table's layer of a pattern: the guide's table, and our bulkhead per tier (the guide has none). */
function tierTable(tier: string, pattern: PatternName): object | undefined {
  if (pattern === 'bulkhead')
    return tier in presets.tiers ? (presets.bulkhead as Record<string, object>)[tier] : undefined;
  return (presets.tiers as Record<string, PatternSettings>)[tier]?.[pattern];
}

/**
 * The tier table's bulkhead values apply once a bulkhead is on; a `bulkhead` section the
 * application writes (defaults, tiers, services, call sites) turns it on unless it says
 * `enabled: false`: a setting written is never ignored, and none is on by surprise.
 */
function ownBulkhead(pattern: PatternName, settings: object | undefined): object | undefined {
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

/**
 * Resolves the settings each service runs with, in this order (later wins):
 * built-in base < environment profile < `defaults` (and `deadLetter` for the DLQ)
 * < tier (the guide's table merged with `tiers`) < `services.<name>` < call-site overrides.
 */
export class ResilienceConfigResolver {
  readonly environment?: EnvironmentName;
  readonly defaultTier: string;
  private readonly cache = new Map<string, ResolvedServiceConfig>();

  private constructor(readonly config: ResilienceConfig) {
    const fromNodeEnv = process.env.NODE_ENV;
    this.environment =
      config.environment ??
      (fromNodeEnv && ENVIRONMENTS.has(fromNodeEnv) ? (fromNodeEnv as EnvironmentName) : undefined);
    this.defaultTier = config.defaultTier ?? DEFAULT_TIER;
  }

  /** Validates and normalizes a raw configuration; throws one ResilienceConfigError listing every problem. */
  static from(raw: unknown): ResilienceConfigResolver {
    const parsed = parseResilienceConfig(raw);
    if (!parsed.ok) throw new ResilienceConfigError(parsed.issues);
    return new ResilienceConfigResolver(parsed.config);
  }

  tierNames(): string[] {
    return [...new Set([...Object.keys(presets.tiers), ...Object.keys(this.config.tiers ?? {})])];
  }

  serviceNames(): string[] {
    return Object.keys(this.config.services ?? {});
  }

  /** The tier a service belongs to: its own entry, an explicit tier, or `defaultTier`. */
  tierOf(service: string, explicitTier?: string): string {
    return explicitTier ?? this.config.services?.[service]?.tier ?? this.defaultTier;
  }

  /** A tier's settings with no service entry applied. */
  resolveTier(tier: string): ResolvedPatterns {
    this.assertTier(tier, 'tier');
    return this.build(tier, tier, []);
  }

  /**
   * A service's settings. `overrides` (a call site's options, already validated)
   * go on top; `tier` replaces the configured tier.
   */
  resolve(service: string, overrides: PatternSettings & { tier?: string } = {}): ResolvedServiceConfig {
    const cacheable = Object.keys(overrides).length === 0;
    if (cacheable) {
      const hit = this.cache.get(service);
      if (hit) return hit;
    }
    const { tier: explicitTier, ...patternOverrides } = overrides;
    if (service.endsWith(ROLLOUT_SUFFIX)) {
      const arm = this.resolveRolloutArm(service, explicitTier, patternOverrides);
      if (arm) {
        if (cacheable) this.cache.set(service, arm);
        return arm;
      }
    }
    const tier = this.tierOf(service, explicitTier);
    this.assertTier(tier, `tier of service "${service}"`);
    const entry = this.config.services?.[service];
    const patterns = this.build(service, tier, [entry, patternOverrides]);
    const resolved: ResolvedServiceConfig = { name: service, tier, environment: this.environment, ...patterns };
    if (entry?.rollout) {
      const { percent, ...arm } = entry.rollout;
      resolved.rollout = { percent, ...this.build(service, tier, [entry, arm, patternOverrides]) };
    }
    if (cacheable) this.cache.set(service, resolved);
    return resolved;
  }

  /** True when `services.<service>.rollout` is configured. */
  hasRollout(service: string): boolean {
    return this.config.services?.[service]?.rollout !== undefined;
  }

  /** The rollout arm `<service>@rollout`: the service's settings with its rollout entry on top. */
  private resolveRolloutArm(
    name: string,
    explicitTier: string | undefined,
    overrides: PatternSettings,
  ): ResolvedServiceConfig | undefined {
    const base = name.slice(0, -ROLLOUT_SUFFIX.length);
    const entry = this.config.services?.[base];
    if (!entry?.rollout) return undefined;
    const tier = this.tierOf(base, explicitTier);
    const { percent: _percent, ...arm } = entry.rollout;
    return { name, tier, environment: this.environment, ...this.build(base, tier, [entry, arm, overrides]) };
  }

  /**
   * A named rate limiter: `rateLimiters.<name>` if configured, else a configured
   * service's limiter, else the preset of that name (stripe, github, free...), else the
   * default tier's. Layered over the base, the environment profile and `defaults`.
   */
  resolveLimiter(name: string, overrides?: RateSettings, tier?: string): ResolvedRateSettings {
    if (tier) return this.resolve(name, { tier, ...(overrides ? { rate: overrides } : {}) }).rate;
    const named = this.config.rateLimiters?.[name];
    const profile = this.environment ? PROFILES[this.environment] : undefined;
    if (named) {
      return layer('rate', [profile?.rate, this.config.defaults?.rate, named, overrides]);
    }
    if (!this.config.services?.[name] && name in presets.rate) {
      return layer('rate', [profile?.rate, this.config.defaults?.rate, { preset: name }, overrides]);
    }
    return this.resolve(name, overrides ? { rate: overrides } : {}).rate;
  }

  private assertTier(tier: string, what: string): void {
    if (!this.tierNames().includes(tier)) {
      throw new ResilienceConfigError([
        { path: what, message: `unknown tier ${JSON.stringify(tier)} (known: ${this.tierNames().join(', ')})` },
      ]);
    }
  }

  private build(queueName: string, tier: string, top: ReadonlyArray<PatternSettings | undefined>): ResolvedPatterns {
    const profile = this.environment ? PROFILES[this.environment] : undefined;
    const stack = <P extends PatternName>(pattern: P, afterTier: object[] = []) =>
      layer(pattern, [
        profile?.[pattern],
        ownBulkhead(pattern, this.config.defaults?.[pattern]),
        tierTable(tier, pattern),
        ownBulkhead(pattern, this.config.tiers?.[tier]?.[pattern]),
        ...afterTier,
        ...top.map((t) => ownBulkhead(pattern, t?.[pattern])),
      ]);
    // The app's own `deadLetter` section is set on purpose: it wins over the tier table's
    // dlq defaults (an alertThreshold written there is the one used), below services and call sites.
    const { queues, allowDynamicQueues: _dynamic, ...deadLetterSettings } = this.config.deadLetter ?? {};
    const dlq = stack('dlq', [deadLetterSettings]);
    const queue = dlq.queue ?? queueName;
    const queueSettings = queues?.[queue];
    return {
      circuit: stack('circuit'),
      retry: stack('retry'),
      rate: stack('rate'),
      dlq: { storageConfig: {}, ...(queueSettings ? layer('dlq', [dlq, queueSettings]) : dlq), queue },
      bulkhead: stack('bulkhead'),
    };
  }
}
