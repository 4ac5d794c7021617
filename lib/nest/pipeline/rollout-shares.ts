import { Inject, Injectable, Optional } from '@nestjs/common';
import type { RolloutProgressState } from '../../core/rollout/progressive-rollout.js';
import { CONFIG_SERVICE_TOKEN, type ConfigServiceLike } from '../config-service-source.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CONFIG_KEY, RESILIENCE_ROLLOUT } from '../tokens.js';
import type { RolloutFlag } from './rollout-chooser.js';
import { RolloutProgress } from './rollout-progress.js';

/** Where a service's rollout share comes from, each source and the one in force. */
export interface RolloutShare {
  service: string;
  /** Set live (the admin console) in this process: wins over every other source. */
  live?: number;
  /** A progressive rollout's current share (`rollout.steps`). */
  progressive?: number;
  /** Where the progressive rollout is: its step, status and the last judgment's reasons. */
  progress?: RolloutProgressState;
  /** The `rolloutFlag` option's answer. */
  flag?: number;
  /** ConfigService's current value. */
  configService?: number;
  /** The configuration at bootstrap. */
  configured: number;
  effective: number;
  source: 'live' | 'progressive' | 'flag' | 'configService' | 'configured';
}

const isShare = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100;

/**
 * Each service's rollout share, read per call: a share set live in this process (the admin
 * console), else its progressive rollout's step, else the `rolloutFlag` option, else
 * ConfigService's current value, else the configuration in force. A share set live is this replica's only (use `rolloutFlag`
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
    @Optional() private readonly progress?: RolloutProgress,
  ) {}

  /** The services that have a rollout. */
  services(): string[] {
    return this.settings.serviceNames().filter((name) => this.settings.hasRollout(name));
  }

  /**
   * The share in force for `service`, read per call: what the call path holds (the
   * ConfigService path and the configured share are worked out once, here).
   */
  reader(service: string): () => number {
    const path = `${this.configKey}.services.${service}.rollout.percent`;
    const configured = this.configuredShare(service);
    const progressive = this.progress?.of(service);
    return () => {
      const live = this.live.get(service);
      if (live !== undefined) return live;
      if (progressive) return progressive.state.percent;
      const flagged = this.flag?.(service);
      if (isShare(flagged)) return flagged;
      const current = this.configService?.get(path);
      return isShare(current) ? current : configured;
    };
  }

  percent(service: string): number {
    return this.describe(service).effective;
  }

  /** Each source of the share and the one in force (each source read once). */
  describe(service: string): RolloutShare {
    const live = this.live.get(service);
    const flag = this.flag?.(service);
    const current = this.configService?.get(`${this.configKey}.services.${service}.rollout.percent`);
    const configured = this.configuredShare(service);
    const progress = this.progress?.of(service)?.state;
    const share: RolloutShare = { service, configured, effective: configured, source: 'configured' };
    if (isShare(current)) Object.assign(share, { configService: current, effective: current, source: 'configService' });
    if (isShare(flag)) Object.assign(share, { flag, effective: flag, source: 'flag' });
    if (progress)
      Object.assign(share, {
        progressive: progress.percent,
        progress,
        effective: progress.percent,
        source: 'progressive',
      });
    if (live !== undefined) Object.assign(share, { live, effective: live, source: 'live' });
    return share;
  }

  private configuredShare(service: string): number {
    const rollout = this.settings.config.services?.[service]?.rollout;
    return rollout?.percent ?? rollout?.steps?.[0] ?? 0;
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
}
