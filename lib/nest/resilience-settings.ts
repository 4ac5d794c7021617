import { Injectable, Logger } from '@nestjs/common';
import { checkResolved } from '../config/pre-deployment-checks.js';
import { ResilienceConfigResolver } from '../config/resolve.js';
import type { ResolvedPatterns, ResolvedRateSettings, ResolvedServiceConfig } from '../config/resolved-types.js';
import type { EnvironmentName, PatternSettings, RateSettings, ResilienceConfig } from '../config/types.js';
import { type ConfigIssue, ResilienceConfigError } from '../core/errors.js';
import { EventSource } from '../core/events.js';
import { frozenSectionIssues, inheritFrozen } from './reload/frozen-sections.js';
import type { ReloadParticipant, ReloadResult, ReloadStep } from './reload/reload-types.js';
import { optionsSignature } from './services/named-registry.js';

/**
 * The validated, resolved configuration of the module, injectable anywhere: each
 * service's settings as tier + overrides + environment profile make them.
 */
@Injectable()
export class ResilienceSettings {
  private static readonly logger = new Logger('Resilience');

  private currentWarnings: readonly ConfigIssue[];
  private resolver: ResilienceConfigResolver;
  private currentVersion = 1;
  private appliedInput: unknown;
  private readonly participants: ReloadParticipant[] = [];
  private readonly reloads = new EventSource<ReloadResult>();
  /** Every reload's result (metrics, the console, the log, the fleet). */
  readonly onReload = this.reloads.event;
  /** @internal Re-reads the configuration's source (ConfigService) for `reload()` without an argument. */
  source?: () => unknown;
  /** @internal What a reload's raw configuration gets before validation (the `redisClient` option's client). */
  completeRaw: (raw: unknown) => unknown = (raw) => raw;

  constructor(resolver: ResilienceConfigResolver) {
    this.resolver = resolver;
    this.currentWarnings = checkResolved(resolver);
  }

  /** Warnings of the guide's pre-deployment checks (errors in strict mode), of the configuration in force. */
  get warnings(): readonly ConfigIssue[] {
    return this.currentWarnings;
  }

  /** The configuration's version: 1 at bootstrap, one more per applied reload. */
  get version(): number {
    return this.currentVersion;
  }

  /** @internal The configuration the last applied reload was given (what the fleet is sent). */
  get lastAppliedInput(): unknown {
    return this.appliedInput;
  }

  /** @internal Registries and the pipelines follow reloads through this. */
  participate(participant: ReloadParticipant): void {
    this.participants.push(participant);
    this.participants.sort((a, b) => a.order - b.order);
  }

  /**
   * Applies a new configuration (else ConfigService's current one): validated with the schema
   * and the pre-deployment checks first; an invalid one changes nothing and reports every
   * problem with its path. A valid one applies at once: new calls take the new pipelines,
   * calls in flight finish under the ones they started with; policies whose settings keep
   * their meaning keep their state (see docs/reload.md). Never throws.
   */
  reload(raw?: unknown, source = raw === undefined ? 'configService' : 'code'): ReloadResult {
    const refused = (issues: ConfigIssue[], warnings: ConfigIssue[] = []) =>
      this.report({ result: 'invalid', version: this.currentVersion, issues, warnings, changed: [], source });
    let input = raw;
    if (input === undefined) {
      if (!this.source)
        return refused([{ path: 'reload', message: 'no configuration given and no ConfigService to re-read' }]);
      input = this.source();
    }
    const validated = ResilienceConfigResolver.validate(inheritFrozen(this.completeRaw(input ?? {}), this.config));
    if (!validated.ok) return refused(validated.issues);
    const next = validated.resolver;
    const warnings = checkResolved(next);
    if (next.config.strict && warnings.length > 0) return refused(warnings, warnings);
    const frozen = frozenSectionIssues(this.resolver.config, next.config);
    if (frozen.length > 0) return refused(frozen, warnings);
    if (!configChanged(this.resolver, next))
      return this.report({
        result: 'unchanged',
        version: this.currentVersion,
        issues: [],
        warnings,
        changed: [],
        source,
      });
    const previous = this.resolver;
    const previousWarnings = this.warnings;
    this.resolver = next;
    this.currentWarnings = warnings;
    const done: ReloadStep[] = [];
    try {
      for (const participant of this.participants) done.push(participant.apply());
    } catch (error) {
      for (const step of done.reverse()) step.rollback();
      this.resolver = previous;
      this.currentWarnings = previousWarnings;
      if (error instanceof ResilienceConfigError) return refused([...error.issues], warnings);
      return refused([{ path: 'reload', message: (error as Error)?.message ?? String(error) }], warnings);
    }
    for (const step of done) step.finish?.();
    const changed = done.flatMap((step) => step.changed);
    this.currentVersion++;
    this.appliedInput = input;
    return this.report({ result: 'applied', version: this.currentVersion, issues: [], warnings, changed, source });
  }

  /** @internal A reload that could not even be read (a file that is not JSON): reported as refused. */
  refuseReload(issues: ConfigIssue[], source: string): ReloadResult {
    return this.report({ result: 'invalid', version: this.currentVersion, issues, warnings: [], changed: [], source });
  }

  private report(result: ReloadResult): ReloadResult {
    const logger = ResilienceSettings.logger;
    if (result.result === 'invalid') {
      logger.warn(
        `configuration reload (${result.source}) refused, version ${result.version} kept: ${result.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      );
    } else if (result.result === 'applied') {
      logger.log(
        `configuration version ${result.version} applied (${result.source}): ${result.changed.join(', ') || 'settings'}`,
      );
    }
    this.reloads.emit(result);
    return result;
  }

  /**
   * Validates a raw configuration: throws one ResilienceConfigError listing every
   * problem; logs pre-deployment warnings, or throws them too with `strict: true`.
   */
  static create(raw: unknown, logger: Pick<Logger, 'warn'> = ResilienceSettings.logger): ResilienceSettings {
    const settings = new ResilienceSettings(ResilienceConfigResolver.from(raw));
    if (settings.warnings.length === 0) return settings;
    if (settings.config.strict) {
      throw new ResilienceConfigError(settings.warnings, 'Resilience pre-deployment checks failed (strict mode)');
    }
    for (const w of settings.warnings) logger.warn(`pre-deployment check: ${w.path}: ${w.message}`);
    return settings;
  }

  get config(): ResilienceConfig {
    return this.resolver.config;
  }

  get environment(): EnvironmentName | undefined {
    return this.resolver.environment;
  }

  get defaultTier(): string {
    return this.resolver.defaultTier;
  }

  tierNames(): string[] {
    return this.resolver.tierNames();
  }

  serviceNames(): string[] {
    return this.resolver.serviceNames();
  }

  /** What a named service runs with; call-site `overrides` and `tier` go on top. */
  resolve(service: string, overrides?: PatternSettings & { tier?: string }): ResolvedServiceConfig {
    return this.resolver.resolve(service, overrides);
  }

  /** A named rate limiter's settings (see ResilienceConfigResolver.resolveLimiter). */
  resolveLimiter(name: string, overrides?: RateSettings, tier?: string): ResolvedRateSettings {
    return this.resolver.resolveLimiter(name, overrides, tier);
  }

  /** True when `services.<service>.rollout` is configured. */
  hasRollout(service: string): boolean {
    return this.resolver.hasRollout(service);
  }

  resolveTier(tier: string): ResolvedPatterns {
    return this.resolver.resolveTier(tier);
  }
}

/** True when two configurations differ in what they say (normalized, functions by identity). */
function configChanged(a: ResilienceConfigResolver, b: ResilienceConfigResolver): boolean {
  return optionsSignature(a.config) !== optionsSignature(b.config);
}
