import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { formatZodIssues } from '../../config/format-issues.js';
import { bulkheadOptionsOf } from '../../config/policy-options.js';
import type { ResolvedBulkheadSettings } from '../../config/resolved-types.js';
import { bulkheadSchema } from '../../config/schema.js';
import type { BulkheadSettings } from '../../config/types.js';
import type { LimitChange } from '../../core/bulkhead/adaptive-limit.js';
import { BulkheadPolicy } from '../../core/bulkhead/bulkhead.js';
import type { LimitSwing } from '../../core/bulkhead/limit-swings.js';
import type { Clock } from '../../core/clock.js';
import { type Criticality, DEFAULT_CRITICALITY } from '../../core/criticality.js';
import type { BulkheadRejection } from '../../core/errors.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK } from '../timing.js';
import { NamedRegistry } from './named-registry.js';
import { ApplicationShutdownError } from './retry.service.js';

export interface BulkheadListener {
  /** `criticality`: the call's class (`critical` for an unclassed call). */
  onRejected?(bulkhead: string, reason: BulkheadRejection, criticality: Criticality): void;
  /** An adaptive limit moved; `change` says from what and why. */
  onLimitChanged?(bulkhead: string, limit: number, change: LimitChange): void;
  /** A learned adaptive limit fell under half (or rose over twice) of where it was within a minute; at most once a minute. */
  onLimitSwing?(bulkhead: string, swing: LimitSwing): void;
}

const REASONS: Record<string, string> = {
  latency: 'latency rose over the no-load latency: calls queue at the dependency',
  overload: 'the dependency answered with overload signals (503, 429, load shedding)',
  timeout: 'calls timed out',
  growth: 'latency is back at the no-load latency',
  slow_start: 'latency is at the no-load latency',
};

/** The log line of a swing: what moved, how far, how fast, why, with the figures. */
export function describeSwing(bulkhead: string, swing: LimitSwing): string {
  const verb = swing.direction === 'down' ? 'fell' : 'rose';
  const figures =
    swing.rttMs !== undefined && swing.noLoadRttMs !== undefined
      ? ` (${swing.rttMs.toFixed(1)} ms against a no-load latency of ${swing.noLoadRttMs.toFixed(1)} ms)`
      : '';
  const why = REASONS[swing.reason] ?? swing.reason;
  return `Bulkhead "${bulkhead}": adaptive limit ${verb} from ${swing.from} to ${swing.to} within ${Math.round(swing.withinMs / 1000)} s: ${why}${figures}`;
}

/**
 * The registry of named bulkheads: one per service (its tier and entry), options given where
 * it is first asked for on top. A bulkhead is off unless a layer turns it on (see docs/bulkhead.md).
 */
@Injectable()
export class BulkheadService implements BeforeApplicationShutdown {
  private readonly registry: NamedRegistry<BulkheadPolicy, BulkheadSettings, ResolvedBulkheadSettings>;
  private readonly logger = new Logger('Resilience');

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) clock: Clock,
  ) {
    this.registry = new NamedRegistry({
      kind: 'bulkhead',
      origin: 'BulkheadService.get',
      resolve: (name, options, tier) => {
        const parsed = bulkheadSchema.safeParse(options ?? {}, { reportInput: true });
        if (!parsed.success)
          throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, `bulkhead "${name}"`));
        return settings.resolve(name, { tier, bulkhead: parsed.data }).bulkhead;
      },
      create: (name, resolved) => new BulkheadPolicy(name, { ...bulkheadOptionsOf(resolved), clock }),
    });
    // A reload: a bulkhead whose settings changed hands over to its replacement (its running
    // calls count there, its queue is served first): none dropped, none beyond the new limit.
    settings.participate({
      order: 10,
      apply: () => this.registry.reloaded({ retire: (old, next) => old.handOver(next) }),
    });
    // The detector allows one swing a minute per bulkhead and direction: the log stays readable.
    this.subscribe({ onLimitSwing: (name, swing) => this.logger.warn(describeSwing(name, swing)) });
  }

  /**
   * The bulkhead named `name`, created on first use (`options` on top of its service's
   * settings; a name asked for again with other options is an error naming both places).
   * Asking for a bulkhead turns it on, unless `options` say `enabled: false`.
   */
  get(name: string, options?: BulkheadSettings, tier?: string, origin?: string): BulkheadPolicy {
    return this.registry.get(name, options, tier, origin);
  }

  /** Runs `fn` in a slot of the named bulkhead. */
  execute<T>(name: string, fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    return this.get(name).execute(fn, undefined, signal);
  }

  /** Whether the settings of `name` (with these options, if any) turn a bulkhead on. */
  isEnabled(name: string, options?: BulkheadSettings, tier?: string): boolean {
    if (options === undefined) return this.settings.resolve(name, { tier }).bulkhead.enabled;
    const parsed = bulkheadSchema.safeParse(options);
    return parsed.success && this.settings.resolve(name, { tier, bulkhead: parsed.data }).bulkhead.enabled;
  }

  all(): ReadonlyMap<string, BulkheadPolicy> {
    return this.registry.all();
  }

  /** Observes every bulkhead, existing and future (metrics, the console): rejections, limit changes and swings. */
  subscribe(listener: BulkheadListener): () => void {
    return this.registry.each((bulkhead, name) => {
      const offs = [
        listener.onRejected &&
          bulkhead.onRejected(({ reason, criticality }) =>
            listener.onRejected?.(name, reason, criticality ?? DEFAULT_CRITICALITY),
          ),
        listener.onLimitChanged &&
          bulkhead.onLimitChanged(({ name: _, ...change }) => listener.onLimitChanged?.(name, change.limit, change)),
        listener.onLimitSwing && bulkhead.onLimitSwing(({ name: _, ...swing }) => listener.onLimitSwing?.(name, swing)),
      ];
      return () => {
        for (const off of offs) off?.();
      };
    });
  }

  /**
   * Before the HTTP server drains: calls queued for a slot end at once with
   * ApplicationShutdownError (503 with Connection: close over HTTP), as waiting retries do.
   */
  beforeApplicationShutdown(): void {
    const shutdown = new ApplicationShutdownError();
    for (const bulkhead of this.registry.all().values()) bulkhead.cancelWaiting(shutdown);
  }

  /** Told of every bulkhead created from now on. */
  get onCreated() {
    return this.registry.onCreated;
  }
}
