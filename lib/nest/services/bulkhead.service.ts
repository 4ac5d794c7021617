import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { formatZodIssues } from '../../config/format-issues.js';
import type { ResolvedBulkheadSettings } from '../../config/resolved-types.js';
import { bulkheadSchema } from '../../config/schema.js';
import type { BulkheadSettings } from '../../config/types.js';
import { BulkheadPolicy } from '../../core/bulkhead/bulkhead.js';
import type { Clock } from '../../core/clock.js';
import type { BulkheadRejection } from '../../core/errors.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK } from '../timing.js';
import { NamedRegistry } from './named-registry.js';
import { ApplicationShutdownError } from './retry.service.js';

export interface BulkheadListener {
  onRejected?(bulkhead: string, reason: BulkheadRejection): void;
  onLimitChanged?(bulkhead: string, limit: number): void;
}

/**
 * The registry of named bulkheads: one per service (its tier and entry), options given where
 * it is first asked for on top. A bulkhead is off unless a layer turns it on (see docs/bulkhead.md).
 */
@Injectable()
export class BulkheadService implements BeforeApplicationShutdown {
  private readonly registry: NamedRegistry<BulkheadPolicy, BulkheadSettings, ResolvedBulkheadSettings>;

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
      create: (name, resolved) => new BulkheadPolicy(name, { ...resolved, clock }),
    });
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

  /** Observes every bulkhead, existing and future (metrics): their onRejected and onLimitChanged events. */
  subscribe(listener: BulkheadListener): () => void {
    return this.registry.each((bulkhead, name) => {
      const offs = [
        listener.onRejected && bulkhead.onRejected(({ reason }) => listener.onRejected?.(name, reason)),
        listener.onLimitChanged && bulkhead.onLimitChanged(({ limit }) => listener.onLimitChanged?.(name, limit)),
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
