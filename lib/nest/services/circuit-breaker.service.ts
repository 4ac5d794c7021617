import { Inject, Injectable } from '@nestjs/common';
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
import { ResilienceConfigError } from '../../core/errors.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK } from '../timing.js';
import { NamedRegistry } from './named-registry.js';

/**
 * The registry of named circuit breakers: one per service, as the guide asks.
 * A breaker's settings are its service's (tier + entry + environment profile);
 * options given when it is first created go on top.
 */
@Injectable()
export class CircuitBreakerService {
  private readonly registry: NamedRegistry<CircuitBreakerPolicy, CircuitSettings, ResolvedCircuitSettings>;

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) clock: Clock,
  ) {
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
      create: (name, resolved) => new CircuitBreakerPolicy(name, { ...resolved, clock }),
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

  /** Told of every breaker created from now on (subscribe to its events there). */
  get onCreated() {
    return this.registry.onCreated;
  }
}
