import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { z } from 'zod';
import { formatZodIssues } from '../../config/format-issues.js';
import { chaosExperimentSchema } from '../../config/schema.js';
import type { ChaosExperiment } from '../../core/chaos/chaos-stage.js';
import type { Clock } from '../../core/clock.js';
import { toMilliseconds } from '../../core/duration.js';
import { ChaosFleetUnavailableError, ResilienceConfigError } from '../../core/errors.js';
import { RedisChaosStore, type SharedChaosExperiment } from '../../redis/chaos-store.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK, RESILIENCE_REDIS } from '../tokens.js';
import {
  type ChaosExperimentView,
  fieldsFrom,
  fieldsOf,
  lifetimeOf,
  type Running,
  runningOf,
} from './running-experiment.js';

export type { ChaosExperimentView } from './running-experiment.js';
export type ChaosExperimentSpec = z.input<typeof chaosExperimentSchema>;

const NONE: readonly ChaosExperiment[] = Object.freeze([]);

/**
 * The chaos experiments of this application: started from `chaos.experiments` at bootstrap,
 * through the admin API or from code, each ending by itself after its duration; `endAll()` is
 * the kill switch. Off unless `chaos.enabled`; refused in production unless
 * `chaos.allowInProduction`. With Redis (`chaos.scope: 'fleet'`, the default then), `begin`,
 * `end` and `endAll` act on every replica: each reads the fleet's experiments every
 * `chaos.syncInterval`. The chaos stage of each method reads one list: one map lookup per call.
 */
@Injectable()
export class ChaosExperiments implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly enabled: boolean;
  /** 'fleet': begin / end / endAll reach every replica through Redis; 'local': this one only. */
  readonly scope: 'local' | 'fleet' = 'local';
  private readonly experiments = new Map<string, Running>();
  /** By service and arm: the lists the stages read, rebuilt when an experiment starts or stops. */
  private byService = new Map<string, readonly ChaosExperiment[]>();
  private readonly store?: RedisChaosStore;
  private readonly syncMs: number = 1000;
  private timer?: NodeJS.Timeout;
  private unreachable = false;
  private readonly logger = new Logger('Resilience');

  constructor(
    settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Optional() @Inject(RESILIENCE_REDIS) redis?: Redis | Cluster | null,
  ) {
    const chaos = settings.config.chaos ?? {};
    this.enabled = chaos.enabled === true;
    if (!this.enabled) {
      if (chaos.experiments?.length)
        refuse('chaos.experiments', 'lists experiments but chaos.enabled is not true: enable it or remove them');
      return;
    }
    if (settings.environment === 'production' && chaos.allowInProduction !== true)
      refuse(
        'chaos.enabled',
        'is true in production: set chaos.allowInProduction: true to inject faults there on purpose',
      );
    this.scope = chaos.scope ?? (redis ? 'fleet' : 'local');
    if (this.scope === 'fleet') {
      if (!redis) refuse('chaos.scope', "is 'fleet' but no redis is configured: configure redis, or use 'local'");
      this.store = new RedisChaosStore(redis as Redis | Cluster, settings.config.redis?.keyPrefix);
      if (chaos.syncInterval !== undefined) this.syncMs = toMilliseconds(chaos.syncInterval, 'chaos.syncInterval');
    }
    (chaos.experiments ?? []).forEach((spec, i) => {
      this.start(spec, 'configuration', `chaos.experiments[${i}]`);
    });
  }

  onApplicationBootstrap(): void {
    if (!this.store) return;
    void this.sync();
    this.timer = setInterval(() => void this.sync(), this.syncMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Starts an experiment on this replica only; a ResilienceConfigError names what is wrong with `spec` (at `path`). */
  start(spec: unknown, who: string, path = 'experiment'): ChaosExperimentView {
    const running = this.build(spec, who, path, false);
    this.add(running);
    return running.view;
  }

  /**
   * Starts an experiment on every replica (fleet scope; else as start()). Refused with
   * ChaosFleetUnavailableError when Redis cannot take it, and for a `when` predicate (code
   * cannot travel to other replicas).
   */
  async begin(spec: unknown, who: string, path = 'experiment'): Promise<ChaosExperimentView> {
    if (!this.store) return this.start(spec, who, path);
    const running = this.build(spec, who, path, true);
    if (running.local)
      refuse(
        `${path}.when`,
        'is a predicate: it cannot travel to other replicas; scope by route or key, or start() it on this replica',
      );
    try {
      await this.store.put(running.shared);
    } catch (error) {
      throw new ChaosFleetUnavailableError('the experiment was not started', error);
    }
    this.add(running);
    return running.view;
  }

  /** Stops one experiment on this replica; false when there is none of that id (or it had ended). */
  stop(id: string): boolean {
    const removed = this.experiments.delete(id);
    if (removed) this.rebuild();
    return removed;
  }

  /** Stops one experiment everywhere: here at once, on the other replicas at their next read. */
  async end(id: string): Promise<boolean> {
    const here = this.stop(id);
    if (!this.store) return here;
    try {
      return (await this.store.remove(id)) || here;
    } catch (error) {
      throw new ChaosFleetUnavailableError(`experiment ${id} was stopped on this replica only`, error);
    }
  }

  /** The kill switch on this replica: stops every experiment at once; returns how many ran. */
  stopAll(): number {
    const count = this.list().length;
    this.experiments.clear();
    this.rebuild();
    return count;
  }

  /** The kill switch for the fleet: this replica stops at once, the others at their next read. */
  async endAll(): Promise<number> {
    const ids = new Set(this.list().map((view) => view.id));
    this.stopAll();
    if (!this.store) return ids.size;
    try {
      for (const id of await this.store.clear()) ids.add(id);
    } catch (error) {
      throw new ChaosFleetUnavailableError(`${ids.size} experiment(s) were stopped on this replica only`, error);
    }
    return ids.size;
  }

  /** The experiments still running (ended ones are dropped here). */
  list(): ChaosExperimentView[] {
    const now = this.clock.now();
    let ended = false;
    for (const [id, experiment] of this.experiments) {
      if (experiment.endsAt <= now) {
        this.experiments.delete(id);
        ended = true;
      }
    }
    if (ended) this.rebuild();
    return [...this.experiments.values()].map((e) => e.view);
  }

  /**
   * Reads the fleet's experiments: starts the ones begun elsewhere, stops the ones ended
   * elsewhere, drops ended ones from Redis. While Redis is unreachable the running ones go on
   * until their own end (logged once).
   */
  async sync(): Promise<void> {
    if (!this.store) return;
    let shared: SharedChaosExperiment[];
    try {
      shared = await this.store.all();
    } catch (error) {
      if (!this.unreachable)
        this.logger.warn(
          `chaos: the fleet's experiments cannot be read (${(error as Error).message}); running ones end at their own time`,
        );
      this.unreachable = true;
      return;
    }
    this.unreachable = false;
    const wallNow = Date.now();
    const live = new Set<string>();
    let changed = false;
    for (const experiment of shared) {
      if (experiment.endsAtWall <= wallNow) {
        void this.store.remove(experiment.id).catch(() => undefined);
        continue;
      }
      live.add(experiment.id);
      if (this.experiments.has(experiment.id)) continue;
      const fields = fieldsOf(experiment);
      if (!fields) continue;
      const endsAt = this.clock.now() + (experiment.endsAtWall - wallNow);
      this.experiments.set(experiment.id, runningOf(fields, experiment, endsAt, true));
      changed = true;
    }
    for (const [id, experiment] of this.experiments) {
      if (experiment.fleet && !live.has(id)) {
        this.experiments.delete(id);
        changed = true;
      }
    }
    if (changed) this.rebuild();
  }

  /** What the chaos stage of `service`'s `arm` reads on every call. */
  running(service: string, arm: 'stable' | 'rollout'): readonly ChaosExperiment[] {
    return this.byService.get(`${arm}\u0000${service}`) ?? NONE;
  }

  /** `running(service, arm)` for one stage: its key made once, one map lookup per call. */
  reader(service: string, arm: 'stable' | 'rollout'): () => readonly ChaosExperiment[] {
    const key = `${arm}\u0000${service}`;
    return () => this.byService.get(key) ?? NONE;
  }

  private build(spec: unknown, who: string, path: string, fleet: boolean): Running {
    if (!this.enabled) refuse('chaos.enabled', 'is not true: chaos is off in this application');
    const parsed = chaosExperimentSchema.safeParse(spec, { reportInput: true });
    if (!parsed.success) throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, path));
    const fields = fieldsFrom(parsed.data, path);
    const wallNow = Date.now();
    const lifetimeMs = lifetimeOf(parsed.data, path, wallNow);
    const shared = {
      ...fields,
      id: randomUUID(),
      endsAtWall: wallNow + lifetimeMs,
      startedBy: who,
      startedAt: new Date(wallNow).toISOString(),
    };
    return runningOf(fields, shared, this.clock.now() + lifetimeMs, fleet, parsed.data.when);
  }

  private add(running: Running): void {
    this.experiments.set(running.id, running);
    this.rebuild();
  }

  private rebuild(): void {
    const next = new Map<string, ChaosExperiment[]>();
    for (const experiment of this.experiments.values()) {
      for (const arm of ['stable', 'rollout'] as const) {
        if (experiment.arm && experiment.arm !== arm) continue;
        const key = `${arm}\u0000${experiment.service}`;
        const list = next.get(key) ?? [];
        list.push(experiment);
        next.set(key, list);
      }
    }
    this.byService = next;
  }
}

function refuse(path: string, message: string): never {
  throw new ResilienceConfigError([{ path, message }]);
}
