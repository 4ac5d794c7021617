import { Inject, Injectable } from '@nestjs/common';
import { formatZodIssues } from '../../config/format-issues.js';
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
import { CheckedOptions, NamedSettings } from './named-registry.js';

/**
 * The registry of named circuit breakers: one per service, as the guide asks.
 * A breaker's settings are its service's (tier + entry + environment profile);
 * options given when it is first created go on top.
 */
@Injectable()
export class CircuitBreakerService {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  private readonly listeners: CircuitBreakerListener[] = [];
  private readonly created = new NamedSettings('circuit breaker');
  private readonly checked = new CheckedOptions();

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * The breaker named `name`, created on first use. With no options and no tier it is a
   * lookup; options that resolve differently from the ones it was created with are an
   * error naming both places (`origin` is this caller's).
   */
  get(name: string, options?: CircuitSettings, tier?: string, origin?: string): CircuitBreakerPolicy {
    const existing = this.breakers.get(name);
    if (existing && options === undefined && tier === undefined && origin === undefined) return existing;
    const checkKey = `${name}\u0000${tier ?? ''}`;
    if (existing && this.checked.has(options, checkKey)) return existing;
    const resolved = this.resolve(name, options, tier);
    this.created.agree(name, resolved, origin ?? 'CircuitBreakerService.get');
    this.checked.add(options, checkKey);
    if (existing) return existing;
    let breaker: CircuitBreakerPolicy;
    try {
      breaker = new CircuitBreakerPolicy(name, { ...resolved, clock: this.clock });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new ResilienceConfigError([{ path: `circuit breaker "${name}"`, message: error.message }]);
    }
    for (const listener of this.listeners) breaker.subscribe(listener);
    this.breakers.set(name, breaker);
    return breaker;
  }

  /** Runs `fn` through the named breaker. */
  execute<T>(name: string, fn: (context: CallContext) => T | PromiseLike<T>): Promise<T> {
    return this.get(name).execute(fn);
  }

  /** Every breaker's state by name. */
  states(): Record<string, CircuitState> {
    const out: Record<string, CircuitState> = {};
    for (const [name, breaker] of this.breakers) out[name] = breaker.state;
    return out;
  }

  all(): ReadonlyMap<string, CircuitBreakerPolicy> {
    return this.breakers;
  }

  /** The tier of the service a breaker belongs to. */
  tierOf(name: string): string {
    return this.settings.resolve(name).tier;
  }

  /** Observes every breaker, existing and future (metrics, health). */
  subscribe(listener: CircuitBreakerListener): () => void {
    this.listeners.push(listener);
    const unsubscribes = [...this.breakers.values()].map((b) => b.subscribe(listener));
    return () => {
      this.listeners.splice(this.listeners.indexOf(listener), 1);
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
  }

  private resolve(name: string, options: CircuitSettings | undefined, tier?: string) {
    const parsed = circuitSchema.safeParse(options ?? {}, { reportInput: true });
    if (!parsed.success) {
      throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, `circuit breaker "${name}"`));
    }
    return this.settings.resolve(name, { tier, circuit: parsed.data as CircuitSettings }).circuit;
  }
}
