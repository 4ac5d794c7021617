import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { formatZodIssues } from '../../config/format-issues.js';
import { chaosExperimentSchema } from '../../config/schema.js';
import { checkInjectableError } from '../../core/chaos/chaos-fault.js';
import type { ChaosExperiment } from '../../core/chaos/chaos-stage.js';
import type { Clock } from '../../core/clock.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK } from '../tokens.js';

export type ChaosExperimentSpec = z.input<typeof chaosExperimentSchema>;

/** A running experiment as the console and the admin API show it. */
export interface ChaosExperimentView {
  id: string;
  service: string;
  fault: 'latency' | 'error' | 'outcome';
  error?: string;
  latencySeconds?: number;
  rate: number;
  arm?: 'stable' | 'rollout';
  per: 'attempt' | 'call';
  /** Wall time it ends (ISO 8601). */
  endsAt: string;
  startedBy: string;
  startedAt: string;
}

interface Running extends ChaosExperiment {
  readonly view: ChaosExperimentView;
  readonly service: string;
  readonly arm?: 'stable' | 'rollout';
}

const NONE: readonly ChaosExperiment[] = Object.freeze([]);

/**
 * The chaos experiments of this application: started from `chaos.experiments` at bootstrap or
 * through the admin API, each ending by itself after its duration; `stopAll()` is the kill
 * switch. Off unless `chaos.enabled`; refused in production unless `chaos.allowInProduction`.
 * The chaos stage of each method reads `running(service, arm)`: one map lookup per call.
 */
@Injectable()
export class ChaosExperiments {
  readonly enabled: boolean;
  private readonly experiments = new Map<string, Running>();
  /** By service and arm: the lists the stages read, rebuilt when an experiment starts or stops. */
  private byService = new Map<string, readonly ChaosExperiment[]>();

  constructor(
    settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
  ) {
    const chaos = settings.config.chaos ?? {};
    this.enabled = chaos.enabled === true;
    if (!this.enabled) {
      if (chaos.experiments?.length) {
        throw new ResilienceConfigError([
          {
            path: 'chaos.experiments',
            message: 'lists experiments but chaos.enabled is not true: enable it or remove them',
          },
        ]);
      }
      return;
    }
    if (settings.environment === 'production' && chaos.allowInProduction !== true) {
      throw new ResilienceConfigError([
        {
          path: 'chaos.enabled',
          message: 'is true in production: set chaos.allowInProduction: true to inject faults there on purpose',
        },
      ]);
    }
    (chaos.experiments ?? []).forEach((spec, i) => {
      this.start(spec, 'configuration', `chaos.experiments[${i}]`);
    });
  }

  /** Starts an experiment; a ResilienceConfigError names what is wrong with `spec` (at `path`). */
  start(spec: unknown, who: string, path = 'experiment'): ChaosExperimentView {
    if (!this.enabled) {
      throw new ResilienceConfigError([
        { path: 'chaos.enabled', message: 'is not true: chaos is off in this application' },
      ]);
    }
    const parsed = chaosExperimentSchema.safeParse(spec, { reportInput: true });
    if (!parsed.success) throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, path));
    const { service, fault, error, latency, value, rate, duration, arm, per } = parsed.data;
    const missing = fault === 'error' && !error ? 'error' : fault === 'latency' && !latency ? 'latency' : undefined;
    if (missing)
      throw new ResilienceConfigError([{ path: `${path}.${missing}`, message: `is required for a ${fault} fault` }]);
    if (fault === 'error') {
      try {
        checkInjectableError(error as string);
      } catch (problem) {
        throw new ResilienceConfigError([{ path: `${path}.error`, message: (problem as Error).message }]);
      }
    }
    const id = randomUUID();
    const endsAt = this.clock.now() + duration * 1000;
    const view: ChaosExperimentView = {
      id,
      service,
      fault,
      ...(error ? { error } : {}),
      ...(latency ? { latencySeconds: latency } : {}),
      rate,
      ...(arm ? { arm } : {}),
      per: per ?? 'attempt',
      endsAt: new Date(Date.now() + duration * 1000).toISOString(),
      startedBy: who,
      startedAt: new Date().toISOString(),
    };
    this.experiments.set(id, {
      id,
      service,
      arm,
      rate,
      per: per ?? 'attempt',
      endsAt,
      view,
      fault:
        fault === 'latency'
          ? { kind: 'latency', latencyMs: (latency as number) * 1000 }
          : fault === 'error'
            ? { kind: 'error', error: error as string }
            : { kind: 'outcome', value },
    });
    this.rebuild();
    return view;
  }

  /** Stops one experiment; false when there is none of that id (or it had ended). */
  stop(id: string): boolean {
    const removed = this.experiments.delete(id);
    if (removed) this.rebuild();
    return removed;
  }

  /** The kill switch: stops every experiment at once; returns how many ran. */
  stopAll(): number {
    const count = this.list().length;
    this.experiments.clear();
    this.rebuild();
    return count;
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

  /** What the chaos stage of `service`'s `arm` reads on every call. */
  running(service: string, arm: 'stable' | 'rollout'): readonly ChaosExperiment[] {
    return this.byService.get(`${arm}\u0000${service}`) ?? NONE;
  }

  /** `running(service, arm)` for one stage: its key made once, one map lookup per call. */
  reader(service: string, arm: 'stable' | 'rollout'): () => readonly ChaosExperiment[] {
    const key = `${arm}\u0000${service}`;
    return () => this.byService.get(key) ?? NONE;
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
