import { type BeforeApplicationShutdown, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { formatZodIssues } from '../../config/format-issues.js';
import type { ResolvedCircuitSettings } from '../../config/resolved-types.js';
import { circuitSchema } from '../../config/schema.js';
import type { CircuitSettings } from '../../config/types.js';
import {
  type CallContext,
  type CircuitBreakerListener,
  CircuitBreakerPolicy,
  type CircuitState,
} from '../../core/circuit-breaker/index.js';
import type { Clock } from '../../core/clock.js';
import { ApplicationShutdownError, ResilienceConfigError } from '../../core/errors.js';
import type { Event } from '../../core/events.js';
import { RESILIENCE_REDIS } from '../redis/redis.provider.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK } from '../timing.js';
import { CircuitScopes } from './circuit-scopes.js';
import { NamedRegistry } from './named-registry.js';

/**
 * The registry of named circuit breakers: one per service, as the guide asks.
 * A breaker's settings are its service's (tier + entry + environment profile);
 * options given when it is first created go on top.
 */
@Injectable()
export class CircuitBreakerService implements BeforeApplicationShutdown {
  private readonly registry: NamedRegistry<CircuitBreakerPolicy, CircuitSettings, ResolvedCircuitSettings>;
  private readonly scopes: CircuitScopes;
  private readonly storeErrorListeners = new Set<(event: { name: string; error: unknown }) => void>();
  private storeAvailable = true;
  /** A shared or quorum breaker's call to Redis failed (it acts on its own until Redis answers). */
  readonly onStoreError: Event<{ name: string; error: unknown }> = (listener) => {
    this.storeErrorListeners.add(listener);
    return () => this.storeErrorListeners.delete(listener);
  };

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) clock: Clock,
    @Optional() @Inject(RESILIENCE_REDIS) redis?: Redis | Cluster | null,
  ) {
    const logger = new Logger('Resilience');
    this.scopes = new CircuitScopes({
      clock,
      redis,
      keyPrefix: settings.config.redis?.keyPrefix,
      onStoreError: (name, error) => {
        for (const listener of this.storeErrorListeners) listener({ name, error });
      },
      onAvailabilityChange: (available, error) => {
        this.storeAvailable = available;
        if (available) logger.log('Redis answers again: shared circuit breakers take the fleet state again');
        else
          logger.warn(
            `Redis unavailable (${error instanceof Error ? error.message : String(error)}): shared circuit breakers act on their own`,
          );
      },
    });
    this.registry = new NamedRegistry({
      kind: 'circuit breaker',
      origin: 'CircuitBreakerService.get',
      resolve: (name, options, tier) => {
        const parsed = circuitSchema.safeParse(options ?? {}, { reportInput: true });
        if (!parsed.success) {
          throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, `circuit breaker "${name}"`));
        }
        return settings.resolve(name, { tier, circuit: parsed.data }).circuit;
      },
      create: (name, resolved) => this.scopes.create(name, resolved),
    });
    // A reload: a breaker whose settings changed is replaced, keeping its state (see carryState).
    settings.participate({
      order: 10,
      apply: () =>
        this.registry.reloaded({
          transfer: carryState,
          retire: (old) => (old as { dispose?: () => unknown }).dispose?.(),
        }),
    });
  }

  /**
   * The breaker named `name`, created on first use. With no options and no tier it is a
   * lookup; options that resolve differently from the ones it was created with are an
   * error naming both places (`origin` is this caller's).
   */
  get(name: string, options?: CircuitSettings, tier?: string, origin?: string): CircuitBreakerPolicy {
    return this.registry.get(name, options, tier, origin);
  }

  /** Runs `fn` through the named breaker. */
  execute<T>(name: string, fn: (context: CallContext) => T | PromiseLike<T>): Promise<T> {
    return this.get(name).execute(fn);
  }

  /** Every breaker's state by name. */
  states(): Record<string, CircuitState> {
    const out: Record<string, CircuitState> = {};
    for (const [name, breaker] of this.registry.all()) out[name] = breaker.state;
    return out;
  }

  all(): ReadonlyMap<string, CircuitBreakerPolicy> {
    return this.registry.all();
  }

  /** The tier of the service a breaker belongs to. */
  tierOf(name: string): string {
    return this.settings.resolve(name).tier;
  }

  /**
   * Observes every breaker, existing and future (metrics, health): the breakers' own
   * events (CircuitBreakerPolicy.onStateChange, onFailure...), subscribed through one call.
   */
  subscribe(listener: CircuitBreakerListener): () => void {
    return this.registry.each((breaker) => breaker.subscribe(listener));
  }

  /** False while shared and quorum breakers cannot reach Redis and act on their own (health: degraded). */
  get fleetAvailable(): boolean {
    return this.storeAvailable;
  }

  /**
   * Calls still waiting on a breaker's callTimeout end at once with ApplicationShutdownError
   * (their signal aborts; an operation that never settles no longer holds the process), then
   * quorum replicas leave the fleet's count while Redis is still connected.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const shutdown = new ApplicationShutdownError(
      'The application is shutting down; a call under callTimeout was cancelled',
    );
    for (const breaker of this.registry.all().values()) breaker.cancelPending(shutdown);
    await this.scopes.close(this.registry.all().values());
  }

  /** Told of every breaker created from now on (subscribe to its events there). */
  get onCreated() {
    return this.registry.onCreated;
  }
}

/**
 * What a replaced breaker keeps (local breakers; a shared one reads its fleet's state): its
 * state, its open time and counts, and its window when the window's type and size are the
 * same (else the new window starts empty). Done before anything listens to the new breaker,
 * so no transition is reported for it.
 */
function carryState(old: CircuitBreakerPolicy, next: CircuitBreakerPolicy): void {
  if (old.constructor !== CircuitBreakerPolicy || next.constructor !== CircuitBreakerPolicy) return;
  const snapshot = old.snapshot();
  try {
    next.restore(snapshot);
  } catch {
    next.restore({ ...snapshot, window: undefined });
  }
}
