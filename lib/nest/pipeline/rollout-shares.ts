import { Inject, Injectable, Optional } from '@nestjs/common';
import { CONFIG_SERVICE_TOKEN, type ConfigServiceLike } from '../config-service-source.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CONFIG_KEY, RESILIENCE_ROLLOUT } from '../tokens.js';
import type { RolloutFlag } from './rollout-chooser.js';

/** Where a service's rollout share comes from, each source and the one in force. */
export interface RolloutShare {
  service: string;
  /** Set live (the admin console) in this process: wins over every other source. */
  live?: number;
  /** The `rolloutFlag` option's answer. */
  flag?: number;
  /** ConfigService's current value. */
  configService?: number;
  /** The configuration at bootstrap. */
  configured: number;
  effective: number;
  source: 'live' | 'flag' | 'configService' | 'configured';
}

const isShare = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100;

/**
 * Each service's rollout share, read per call: a share set live in this process (the admin
 * console), else the `rolloutFlag` option, else ConfigService's current value, else the
 * configuration at bootstrap. A share set live is this replica's only (use `rolloutFlag`
 * for a fleet-wide switch).
 */
@Injectable()
export class RolloutShares {
  private readonly live = new Map<string, number>();

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CONFIG_KEY) private readonly configKey: string,
    @Optional() @Inject(RESILIENCE_ROLLOUT) private readonly flag?: RolloutFlag | null,
    @Optional() @Inject(CONFIG_SERVICE_TOKEN) private readonly configService?: ConfigServiceLike,
  ) {}

  /** The services that have a rollout. */
  services(): string[] {
    return this.settings.serviceNames().filter((name) => this.settings.hasRollout(name));
  }

  percent(service: string): number {
    const live = this.live.get(service);
    if (live !== undefined) return live;
    const flagged = this.flag?.(service);
    if (isShare(flagged)) return flagged;
    const current = this.configService?.get(`${this.configKey}.services.${service}.rollout.percent`);
    return isShare(current) ? current : this.configured(service);
  }

  describe(service: string): RolloutShare {
    const live = this.live.get(service);
    const flag = this.flag?.(service);
    const current = this.configService?.get(`${this.configKey}.services.${service}.rollout.percent`);
    const share: RolloutShare = { service, configured: this.configured(service), effective: 0, source: 'configured' };
    if (isShare(current)) share.configService = current;
    if (isShare(flag)) share.flag = flag;
    if (live !== undefined) share.live = live;
    share.source =
      live !== undefined ? 'live' : isShare(flag) ? 'flag' : isShare(current) ? 'configService' : 'configured';
    share.effective = this.percent(service);
    return share;
  }

  /** Sets the share live (0-100), or clears it with undefined. */
  set(service: string, percent: number | undefined): void {
    if (!this.settings.hasRollout(service)) throw new RangeError(`service ${JSON.stringify(service)} has no rollout`);
    if (percent === undefined) {
      this.live.delete(service);
      return;
    }
    if (!isShare(percent))
      throw new RangeError(`percent must be a number from 0 to 100, got ${JSON.stringify(percent)}`);
    this.live.set(service, percent);
  }

  private configured(service: string): number {
    return this.settings.config.services?.[service]?.rollout?.percent ?? 0;
  }
}
