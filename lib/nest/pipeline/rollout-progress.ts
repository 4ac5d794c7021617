import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../core/clock.js';
import { toMilliseconds } from '../../core/duration.js';
import { EventSource } from '../../core/events.js';
import {
  ProgressiveRollout,
  type RolloutDecision,
  type RolloutProgressState,
} from '../../core/rollout/progressive-rollout.js';
import { FleetReloads } from '../reload/fleet-reloads.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { optionsSignature } from '../services/named-registry.js';
import { RESILIENCE_CLOCK, RESILIENCE_REDIS } from '../tokens.js';
import { FleetRollout } from './fleet-rollout.js';

/** A judgment of a service's progressive rollout, as events, metrics and the log tell it. */
export interface RolloutJudgment {
  service: string;
  decision: RolloutDecision;
  state: RolloutProgressState;
}

interface Running {
  rollout: ProgressiveRollout;
  signature: string;
  intervalMs: number;
  /** Stops its pending timer. */
  timer?: () => void;
  /** With Redis: the fleet's shared rollout (judged once, on every replica's calls). */
  fleet?: FleetRollout;
}

const DEFAULT_INTERVAL_SECONDS = 300;

/**
 * The progressive rollouts of this application (`services.<s>.rollout.steps`): each compares
 * its two arms live on the same traffic and, every `interval`, moves to its next share, promotes,
 * or rolls back (or holds) saying why, in the log, an event (`onJudgment`), the metrics and the
 * console. Timers run on the module's clock (a manual clock in tests). Per replica.
 */
@Injectable()
export class RolloutProgress implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Resilience');
  private running = new Map<string, Running>();
  private readonly judgments = new EventSource<RolloutJudgment>();
  private started = false;
  /** Every judgment (waited ones too). */
  readonly onJudgment = this.judgments.event;

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Optional() private readonly fleetReloads?: FleetReloads,
    @Optional() @Inject(RESILIENCE_REDIS) private readonly redis?: Redis | Cluster | null,
  ) {
    this.running = this.fromSettings(new Map());
    // A reload: rollouts whose settings did not change go on; new or changed ones start over.
    settings.participate({
      order: 18,
      apply: () => {
        const previous = this.running;
        const next = this.fromSettings(previous);
        const restarted = [...next].filter(([service, entry]) => previous.get(service) !== entry);
        this.running = next;
        return {
          changed: restarted.map(([service]) => `progressive rollout "${service}"`),
          rollback: () => {
            this.running = previous;
          },
          finish: () => {
            for (const [service, entry] of previous) if (next.get(service) !== entry) this.stopTimer(entry);
            if (this.started) for (const [service, entry] of restarted) this.schedule(service, entry);
          },
        };
      },
    });
  }

  onApplicationBootstrap(): void {
    this.started = true;
    for (const [service, entry] of this.running) this.schedule(service, entry);
  }

  onApplicationShutdown(): void {
    this.started = false;
    for (const entry of this.running.values()) this.stopTimer(entry);
  }

  /** The progressive rollout of `service`, if it has one (the pipelines record its arms' calls). */
  of(service: string): ProgressiveRollout | undefined {
    return this.running.get(service)?.rollout;
  }

  /** Judges `service`'s step now (what every interval does; across a fleet, the fleet's judge does it). */
  judge(service: string): RolloutDecision | undefined {
    const entry = this.running.get(service);
    if (!entry) return undefined;
    const before = entry.rollout.state.percent;
    return this.tell(service, entry, entry.rollout.judge(), before);
  }

  private tell(service: string, entry: Running, decision: RolloutDecision, before: number): RolloutDecision {
    const state = entry.rollout.state;
    if (decision !== 'waited') {
      const why = state.reasons.join('; ');
      const line = `rollout of ${service}: ${decision.replace('_', ' ')} (${before}% -> ${state.percent}%): ${why}`;
      if (decision === 'rolled_back' || decision === 'held') this.logger.warn(line);
      else this.logger.log(line);
    }
    this.judgments.emit({ service, decision, state });
    return decision;
  }

  private fromSettings(previous: Map<string, Running>): Map<string, Running> {
    const next = new Map<string, Running>();
    for (const [service, entry] of Object.entries(this.settings.config.services ?? {})) {
      const rollout = entry?.rollout;
      if (!rollout?.steps) continue;
      const signature = optionsSignature({ ...rollout });
      const kept = previous.get(service);
      if (kept && kept.signature === signature) {
        next.set(service, kept);
        continue;
      }
      const intervalMs = toMilliseconds(
        rollout.interval ?? DEFAULT_INTERVAL_SECONDS,
        `services.${service}.rollout.interval`,
      );
      const progressive = new ProgressiveRollout({
        steps: rollout.steps,
        analysis: rollout.analysis,
        onFailure: rollout.onFailure,
      });
      // With Redis the fleet shares it (one share on every replica, one judgment on all the calls).
      const fleet =
        this.redis && this.fleetReloads?.enabled
          ? new FleetRollout(
              this.redis,
              this.settings.config.redis?.keyPrefix,
              service,
              signature,
              progressive,
              this.fleetReloads.replica,
              intervalMs,
              rollout.analysis,
            )
          : undefined;
      next.set(service, { signature, intervalMs, rollout: progressive, fleet });
    }
    return next;
  }

  private schedule(service: string, entry: Running): void {
    const fleet = entry.fleet;
    if (fleet) {
      // Across a fleet: sync often (a step's share is the fleet's), the judge is whoever holds the step's lock.
      const everyMs = Math.max(50, Math.min(1000, entry.intervalMs / 5));
      const sync = () => {
        if (this.running.get(service) !== entry) return;
        const before = entry.rollout.state.percent;
        fleet
          .sync()
          .then(
            (decision) => {
              if (decision) this.tell(service, entry, decision, before);
            },
            () => undefined,
          )
          .finally(() => {
            if (this.started && this.running.get(service) === entry) entry.timer = this.setTimer(sync, everyMs, true);
          });
      };
      entry.timer = this.setTimer(sync, 0, true);
      return;
    }
    const tick = () => {
      if (this.running.get(service) !== entry) return;
      this.judge(service);
      const status = entry.rollout.state.status;
      if (status === 'running') entry.timer = this.setTimer(tick, entry.intervalMs);
    };
    entry.timer = this.setTimer(tick, entry.intervalMs);
  }

  /** A timer on the module's clock (a manual one in tests), or the process's for the fleet (wall time). */
  private setTimer(callback: () => void, ms: number, wall = false): () => void {
    const timers = this.clock.timers;
    if (timers && !wall) {
      const handle = timers.setTimeout(callback, ms);
      return () => timers.clearTimeout(handle);
    }
    const timer = setTimeout(callback, ms);
    timer.unref();
    return () => clearTimeout(timer);
  }

  private stopTimer(entry: Running): void {
    entry.timer?.();
    entry.timer = undefined;
  }
}
