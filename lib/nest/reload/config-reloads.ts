import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfigFile } from '../../config/load-file.js';
import { toMilliseconds } from '../../core/duration.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { type FleetConfigView, FleetReloads } from './fleet-reloads.js';
import type { ReloadResult } from './reload-types.js';

/** A reload as the console and the admin API show it. */
export type ReloadRecord = ReloadResult & { at: string };

const KEPT = 10;

/**
 * The reloads of this application: the last ten results (the console, the admin API), and the
 * watched file of `reload.watch`, read again once it has stayed unchanged for `reload.debounce`
 * (its directory is watched: editors replace a file rather than write it in place).
 */
@Injectable()
export class ConfigReloads implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly recent: ReloadRecord[] = [];
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly settings: ResilienceSettings,
    private readonly fleet: FleetReloads,
  ) {
    settings.onReload((result) => {
      this.recent.unshift({ ...result, at: new Date().toISOString() });
      this.recent.length = Math.min(this.recent.length, KEPT);
    });
  }

  /** The version in force, the latest reloads (newest first), and the fleet's answers (with Redis). */
  async view(): Promise<{ version: number; watching?: string; recent: ReloadRecord[]; fleet?: FleetConfigView }> {
    const watching = this.settings.config.reload?.watch;
    const fleet = await this.fleet.view();
    return {
      version: this.settings.version,
      ...(watching ? { watching } : {}),
      recent: [...this.recent],
      ...(fleet ? { fleet } : {}),
    };
  }

  onApplicationBootstrap(): void {
    const options = this.settings.config.reload;
    if (!options?.watch) return;
    const path = resolve(options.watch);
    const debounceMs = toMilliseconds(options.debounce ?? 0.2, 'reload.debounce');
    try {
      this.watcher = watch(dirname(path), (_event, name) => {
        if (name !== basename(path)) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.readFile(path), debounceMs);
      });
    } catch (error) {
      throw new ResilienceConfigError([
        { path: 'reload.watch', message: `cannot watch ${path}: ${(error as Error).message}` },
      ]);
    }
    this.watcher.unref();
  }

  onApplicationShutdown(): void {
    this.watcher?.close();
    clearTimeout(this.timer);
  }

  /** Reloads from the file at `path`; a file that cannot be read or parsed is a refused reload. */
  async readFile(path: string): Promise<ReloadResult> {
    let raw: unknown;
    try {
      raw = await loadConfigFile(path);
    } catch (error) {
      return this.settings.refuseReload([{ path, message: (error as Error).message }], path);
    }
    return this.settings.reload(raw, path);
  }
}
