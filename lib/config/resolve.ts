import { type ConfigIssue, ResilienceConfigError } from '../core/errors.js';
import { crossCheck } from './cross-check.js';
import { formatZodIssues } from './format-issues.js';
import {
  expandLayers,
  type Layered,
  layer,
  mergeNamed,
  type NamedLayer,
  ownSection,
  PROFILES,
  tierTable,
} from './layer-stack.js';
import { PATTERN_NAMES } from './patterns/index.js';
import { checkPolicies, type ResolvedTarget } from './policy-checks.js';
import { type PatternName, presets } from './presets.js';
import type { ResolvedPatterns, ResolvedRateSettings, ResolvedServiceConfig } from './resolved-types.js';
import { configSchema } from './schema.js';
import type { EnvironmentName, PatternSettings, RateSettings, ResilienceConfig } from './types.js';

const ENVIRONMENTS = new Set<string>(['development', 'staging', 'production']);
export const DEFAULT_TIER = 'standard';
/** `<service>@rollout` names the rollout arm of a service as if it were a service of its own. */
export { checkRetryDelays } from './cross-check.js';
export { type Layered, layer } from './layer-stack.js';

export const ROLLOUT_SUFFIX = '@rollout';

/** A section of the configuration that holds pattern settings, and where it is. */
export interface NamedSection {
  source: string;
  section: SectionWithWhy | undefined;
}
type SectionWithWhy = PatternSettings & { why?: string };

/** Validates shape, types and ranges; returns the normalized config (durations in seconds) or every problem. */
export function parseResilienceConfig(
  raw: unknown,
): { ok: true; config: ResilienceConfig } | { ok: false; issues: ConfigIssue[] } {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  // Cross-field checks run on the raw input too, so one error lists every problem at once.
  const issues = [...(result.success ? [] : formatZodIssues(result.error.issues)), ...crossCheck(raw)];
  return result.success && issues.length === 0 ? { ok: true, config: result.data } : { ok: false, issues };
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
    const validated = ResilienceConfigResolver.validate(raw);
    if (!validated.ok) throw new ResilienceConfigError(validated.issues);
    return validated.resolver;
  }

  /**
   * Every check the app makes of a configuration, the ones its policies make when it builds
   * them included (`nest-resilience check` runs exactly this): the schema, the checks between
   * fields, then each tier, service and rollout arm as resolved.
   */
  static validate(
    raw: unknown,
  ): { ok: true; resolver: ResilienceConfigResolver } | { ok: false; issues: ConfigIssue[] } {
    const parsed = parseResilienceConfig(raw);
    if (!parsed.ok) return parsed;
    const resolver = new ResilienceConfigResolver(parsed.config);
    let issues: ConfigIssue[];
    try {
      issues = checkPolicies(parsed.config, resolver.targets());
    } catch (error) {
      if (!(error instanceof ResilienceConfigError)) throw error;
      issues = [...error.issues];
    }
    return issues.length > 0 ? { ok: false, issues } : { ok: true, resolver };
  }

  /** Each tier, service and rollout arm, resolved, with the path it is configured at. */
  private targets(): ResolvedTarget[] {
    const targets: ResolvedTarget[] = this.tierNames().map((tier) => ({
      path: `tiers.${tier}`,
      patterns: this.resolveTier(tier),
    }));
    for (const service of this.serviceNames()) {
      const resolved = this.resolve(service);
      targets.push({ path: `services.${service}`, patterns: resolved });
      if (resolved.rollout) targets.push({ path: `services.${service}.rollout`, patterns: resolved.rollout });
    }
    return targets;
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
    const patterns = this.build(service, tier, this.sectionsOf(service, { overrides: patternOverrides }));
    const resolved: ResolvedServiceConfig = { name: service, tier, environment: this.environment, ...patterns };
    if (entry?.rollout) {
      resolved.rollout = {
        percent: entry.rollout.percent ?? entry.rollout.steps?.[0] ?? 0,
        ...this.build(service, tier, this.sectionsOf(service, { arm: true, overrides: patternOverrides })),
      };
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
    const sections = this.sectionsOf(base, { arm: true, overrides });
    return { name, tier, environment: this.environment, ...this.build(base, tier, sections) };
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

  /**
   * Every pattern's layers for a service, named and lowest first, as build() merges them
   * (`nest-resilience check --explain` prints where each setting comes from with them).
   */
  layersOf(queueName: string, tier: string, top: ReadonlyArray<NamedSection>): Record<PatternName, NamedLayer[]> {
    const profile = this.environment ? PROFILES[this.environment] : undefined;
    const named = <P extends PatternName>(pattern: P, source: string, section: SectionWithWhy | undefined) => {
      const settings = section?.[pattern] as (object & { why?: string }) | undefined;
      return { source, settings: ownSection(pattern, settings), why: settings?.why ?? section?.why };
    };
    const stack = <P extends PatternName>(pattern: P, afterTier: NamedLayer[] = []) =>
      expandLayers(pattern, [
        named(pattern, `environment profile (${this.environment})`, profile),
        named(pattern, 'defaults', this.config.defaults),
        { source: `tier table (${tier})`, settings: tierTable(tier, pattern) },
        named(pattern, `tiers.${tier}`, this.config.tiers?.[tier]),
        ...afterTier,
        ...top.map((t) => named(pattern, t.source, t.section)),
      ]);
    // The app's own `deadLetter` section is set on purpose: it wins over the tier table's
    // dlq defaults (an alertThreshold written there is the one used), below services and call sites.
    const { queues, allowDynamicQueues: _dynamic, ...deadLetterSettings } = this.config.deadLetter ?? {};
    const dlq = stack('dlq', [{ source: 'deadLetter', settings: deadLetterSettings, why: deadLetterSettings.why }]);
    const queue = mergeNamed('dlq', dlq).queue ?? queueName;
    const queueSettings = queues?.[queue];
    if (queueSettings) {
      const source = `deadLetter.queues.${queue}`;
      dlq.push(...expandLayers('dlq', [{ source, settings: queueSettings, why: queueSettings.why }]).slice(1));
    }
    // Every other pattern: the same stack.
    const layers = {} as Record<PatternName, NamedLayer[]>;
    for (const pattern of PATTERN_NAMES) layers[pattern] = pattern === 'dlq' ? dlq : stack(pattern);
    return layers;
  }

  /** The sections above the tier for a service: its entry, its rollout arm, a call site's overrides. */
  sectionsOf(service: string, options: { arm?: boolean; overrides?: PatternSettings } = {}): NamedSection[] {
    const entry = this.config.services?.[service];
    const sections: NamedSection[] = [{ source: `services.${service}`, section: entry }];
    if (options.arm && entry?.rollout) {
      const { percent: _percent, steps: _s, interval: _i, analysis: _a, onFailure: _o, ...arm } = entry.rollout;
      sections.push({ source: `services.${service}.rollout`, section: arm });
    }
    if (options.overrides) sections.push({ source: 'call site', section: options.overrides });
    return sections;
  }

  private build(queueName: string, tier: string, top: ReadonlyArray<NamedSection>): ResolvedPatterns {
    const layers = this.layersOf(queueName, tier, top);
    const merged = {} as Record<PatternName, unknown>;
    for (const pattern of PATTERN_NAMES) merged[pattern] = mergeNamed(pattern, layers[pattern]);
    const dlq = merged.dlq as Layered['dlq'];
    // A queue's name and storage come from the service when no layer names them.
    merged.dlq = { storageConfig: {}, ...dlq, queue: dlq.queue ?? queueName };
    return merged as unknown as ResolvedPatterns;
  }
}
