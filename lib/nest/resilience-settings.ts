import { Injectable, Logger } from '@nestjs/common';
import { checkResolved } from '../config/pre-deployment-checks.js';
import { ResilienceConfigResolver } from '../config/resolve.js';
import type { ResolvedPatterns, ResolvedRateSettings, ResolvedServiceConfig } from '../config/resolved-types.js';
import type { EnvironmentName, PatternSettings, RateSettings, ResilienceConfig } from '../config/types.js';
import { type ConfigIssue, ResilienceConfigError } from '../core/errors.js';

/**
 * The validated, resolved configuration of the module, injectable anywhere: each
 * service's settings as tier + overrides + environment profile make them.
 */
@Injectable()
export class ResilienceSettings {
  private static readonly logger = new Logger('Resilience');

  /** Warnings of the guide's pre-deployment checks (errors in strict mode). */
  readonly warnings: readonly ConfigIssue[];

  constructor(private readonly resolver: ResilienceConfigResolver) {
    this.warnings = checkResolved(resolver);
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
