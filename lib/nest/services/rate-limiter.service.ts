import { setMaxListeners } from 'node:events';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { formatZodIssues } from '../../config/format-issues.js';
import { limiterRule } from '../../config/policy-options.js';
import type { ResolvedRateSettings } from '../../config/resolved-types.js';
import { rateSchema } from '../../config/schema.js';
import type { RateSettings } from '../../config/types.js';
import { type Clock, coarseClock, systemClock } from '../../core/clock.js';
import { type Criticality, DEFAULT_CRITICALITY } from '../../core/criticality.js';
import { RateLimiterShutdownError, ResilienceConfigError } from '../../core/errors.js';
import { EventSource } from '../../core/events.js';

export { RateLimiterShutdownError } from '../../core/errors.js';

import { MemoryRateLimitStore } from '../../core/rate-limiter/memory-store.js';
import { RateLimiter } from '../../core/rate-limiter/rate-limiter.js';
import type { RateLimitStore, RateLimitVerdict } from '../../core/rate-limiter/types.js';
import type { Sleep } from '../../core/retry/sleep.js';
import { RedisRateLimitStore } from '../../redis/rate-limit-store.js';
import { RESILIENCE_REDIS } from '../redis/redis.provider.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK, RESILIENCE_SLEEP } from '../timing.js';
import { RESILIENCE_RATE_LIMIT_STORE } from '../tokens.js';
import { NamedRegistry } from './named-registry.js';

export interface RateLimitListener {
  onDecision?(limiter: string, allowed: boolean): void;
  /** A call of a pipeline refused by `limiter`, with the call's class (critical when it has none). */
  onRefused?(limiter: string, criticality: Criticality): void;
}

/**
 * Named rate limiters over one store: Redis when `redis` is configured (shared by every
 * instance of the app, with its failure mode), memory otherwise.
 */
@Injectable()
export class RateLimiterService implements BeforeApplicationShutdown {
  /** Wakes waiting calls when the app shuts down, so they never hold app.close() or the process. */
  private readonly shutdown = new AbortController();
  private readonly logger = new Logger('Resilience');
  private readonly registry: NamedRegistry<RateLimiter, RateSettings, ResolvedRateSettings>;
  private readonly refusals = new EventSource<{ limiter: string; criticality: Criticality }>();
  readonly store: RateLimitStore;

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) clock: Clock,
    @Inject(RESILIENCE_SLEEP) sleep: Sleep,
    @Optional() @Inject(RESILIENCE_REDIS) redis?: Redis | Cluster | null,
    @Optional() @Inject(RESILIENCE_RATE_LIMIT_STORE) own?: RateLimitStore | null,
  ) {
    // One listener per waiting call: many may wait at once.
    setMaxListeners(0, this.shutdown.signal);
    // The real clock by default becomes the coarse one for decisions (an injected test clock stays as is).
    const memory = new MemoryRateLimitStore({ clock: clock === systemClock ? coarseClock : clock });
    const { keyPrefix, failureMode } = settings.config.redis ?? {};
    const store =
      own ?? (redis ? new RedisRateLimitStore({ client: redis, keyPrefix, failureMode, local: memory }) : memory);
    this.store = store;
    const signal = this.shutdown.signal;
    this.registry = new NamedRegistry({
      kind: 'rate limiter',
      origin: 'RateLimiterService.get',
      resolve: (name, options, tier) => {
        const parsed = rateSchema.safeParse(options ?? {}, { reportInput: true });
        if (!parsed.success)
          throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, `rate limiter "${name}"`));
        return settings.resolveLimiter(name, parsed.data, tier);
      },
      identity: limiterRule,
      create: (name, resolved) => {
        try {
          return new RateLimiter({ name, ...limiterRule(resolved), store, clock, sleep, signal });
        } catch (error) {
          throw new ResilienceConfigError([{ path: `rate limiter "${name}"`, message: (error as Error).message }]);
        }
      },
    });
    // A reload: counts live in the store under the limiter's name, so they are kept; a new
    // strategy means something else by them: dropped in memory, refused over Redis (restart).
    settings.participate({
      order: 10,
      apply: () =>
        this.registry.reloaded({
          transfer: (old, next, name) => {
            if (old.rule.strategy !== next.rule.strategy && !(store instanceof MemoryRateLimitStore))
              throw new ResilienceConfigError([
                {
                  path: `rate limiter "${name}".strategy`,
                  message: `changes from ${old.rule.strategy} to ${next.rule.strategy}: the counts kept in Redis mean something else under it; change it with a restart (and a new name)`,
                },
              ]);
          },
          retire: (old, next) => {
            if (store instanceof MemoryRateLimitStore) store.retune(next.rule, old.rule);
          },
        }),
    });
  }

  /**
   * The limiter `name` (see ResilienceSettings.resolveLimiter), created on first use. With no
   * options and no tier it is a lookup; options that resolve differently from the ones it was
   * created with are an error naming both places (`origin` is this caller's).
   */
  get(name: string, options?: RateSettings, tier?: string, origin?: string): RateLimiter {
    return this.registry.get(name, options, tier, origin);
  }

  all(): ReadonlyMap<string, RateLimiter> {
    return this.registry.all();
  }

  beforeApplicationShutdown(): void {
    this.shutdown.abort(new RateLimiterShutdownError());
  }

  /** The resolved settings a limiter of this name is (or would be) built from. */
  settingsOf(name: string, options?: RateSettings, tier?: string) {
    return this.settings.resolveLimiter(name, options, tier);
  }

  /** Decides and counts one request; returns the verdict (a denial is not an error here). */
  consume(name: string, key = 'global', cost = 1): Promise<RateLimitVerdict> {
    return this.get(name).consume(key, cost);
  }

  /** The verdict a consume would give, counting nothing. */
  check(name: string, key = 'global', cost = 1): Promise<RateLimitVerdict> {
    return this.get(name).check(key, cost);
  }

  reset(name: string, key = 'global'): Promise<void> {
    return this.get(name).reset(key);
  }

  /** Admits (returning the verdict), throws RateLimitExceededError, or waits in 'wait' mode. */
  acquire(name: string, key = 'global', cost = 1): Promise<RateLimitVerdict> {
    return this.get(name).acquire(key, cost);
  }

  /** @internal A pipeline's call was refused by `limiter` (the rate stage tells, with the call's class). */
  refused(limiter: string, criticality: Criticality | undefined): void {
    if (this.refusals.hasListeners) this.refusals.emit({ limiter, criticality: criticality ?? DEFAULT_CRITICALITY });
  }

  /**
   * Observes the decisions of every limiter, existing and future (metrics): each limiter's
   * own onDecision event, subscribed through one call; and the refusals of pipelines' calls
   * by class. A listener that throws is logged.
   */
  subscribe(listener: RateLimitListener): () => void {
    const guarded =
      <A extends unknown[]>(call: (...args: A) => void) =>
      (...args: A) => {
        try {
          call(...args);
        } catch (error) {
          this.logger.warn(`rate-limit listener failed: ${(error as Error).message}`);
        }
      };
    const decided = guarded((name: string, allowed: boolean) => listener.onDecision?.(name, allowed));
    const stopDecisions = this.registry.each((limiter) =>
      limiter.onDecision(({ limiter: name, allowed }) => decided(name, allowed)),
    );
    const refused = guarded((name: string, criticality: Criticality) => listener.onRefused?.(name, criticality));
    const stopRefusals = listener.onRefused
      ? this.refusals.event(({ limiter, criticality }) => refused(limiter, criticality))
      : () => undefined;
    return () => {
      stopDecisions();
      stopRefusals();
    };
  }

  /** Told of every limiter created from now on. */
  get onCreated() {
    return this.registry.onCreated;
  }
}
