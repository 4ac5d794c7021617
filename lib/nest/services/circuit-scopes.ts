import type { Cluster, Redis } from 'ioredis';
import { breakerOptionsOf } from '../../config/policy-options.js';
import type { ResolvedCircuitSettings } from '../../config/resolved-types.js';
import { CircuitBreakerPolicy } from '../../core/circuit-breaker/index.js';
import type { Clock } from '../../core/clock.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { CircuitFleet } from '../../redis/shared-circuit/circuit-fleet.js';
import { QuorumCircuitBreaker } from '../../redis/shared-circuit/quorum-breaker.js';
import { SharedCircuitBreaker } from '../../redis/shared-circuit/shared-breaker.js';

/** What building a breaker of each scope needs from the module. */
export interface ScopeContext {
  clock: Clock;
  /** The module's Redis client, or null without `redis`. */
  redis: Redis | Cluster | null | undefined;
  keyPrefix?: string;
  /** Told of each failed store call and each change of availability (metrics, logs). */
  onStoreError: (name: string, error: unknown) => void;
  onAvailabilityChange: (available: boolean, error?: unknown) => void;
}

/**
 * Builds the breaker a service's settings ask for: local, shared or quorum (one fleet
 * link per module, made on first need). The checks here name the service, since a scope is
 * layered (a tier may ask for it, a service may refine it).
 */
export class CircuitScopes {
  private fleet?: CircuitFleet;

  constructor(private readonly context: ScopeContext) {}

  create(name: string, resolved: ResolvedCircuitSettings): CircuitBreakerPolicy {
    const { scope, quorum, options } = breakerOptionsOf(resolved);
    const breakerOptions = { ...options, clock: this.context.clock };
    if (quorum !== undefined && scope !== 'quorum') {
      throw new ResilienceConfigError([
        {
          path: `circuit breaker "${name}".quorum`,
          message: `is set but scope is ${JSON.stringify(scope)}; quorum applies only to scope 'quorum'`,
        },
      ]);
    }
    if (scope === 'local') return new CircuitBreakerPolicy(name, breakerOptions);
    if (scope === 'shared')
      return new SharedCircuitBreaker(name, { ...breakerOptions, fleet: this.fleetFor(name, scope) });
    if (!quorum || (quorum.replicas === undefined) === (quorum.percent === undefined)) {
      throw new ResilienceConfigError([
        {
          path: `circuit breaker "${name}".quorum`,
          message: `scope 'quorum' needs quorum.replicas (a count) or quorum.percent (of the live replicas), exactly one${quorum ? `, got ${JSON.stringify(quorum)}` : ''}`,
        },
      ]);
    }
    return new QuorumCircuitBreaker(name, { ...breakerOptions, fleet: this.fleetFor(name, scope), quorum });
  }

  private fleetFor(name: string, scope: string): CircuitFleet {
    const { redis } = this.context;
    if (!redis) {
      throw new ResilienceConfigError([
        {
          path: `circuit breaker "${name}".scope`,
          message: `${JSON.stringify(scope)} keeps the state in Redis, and no redis is configured (set redis: url, host, cluster, sentinels or client; or scope: 'local')`,
        },
      ]);
    }
    if (!this.fleet) {
      this.fleet = new CircuitFleet({
        client: redis,
        keyPrefix: this.context.keyPrefix,
        onError: (error, breaker) => this.context.onStoreError(breaker, error),
        onAvailabilityChange: this.context.onAvailabilityChange,
      });
    }
    return this.fleet;
  }

  /** Quorum replicas leave the count; the fleet stops its timer and subscription. */
  async close(breakers: Iterable<CircuitBreakerPolicy>): Promise<void> {
    const leaving: Promise<void>[] = [];
    for (const breaker of breakers) {
      if (breaker instanceof QuorumCircuitBreaker) leaving.push(breaker.dispose());
      if (breaker instanceof SharedCircuitBreaker) {
        leaving.push(breaker.settled().catch(() => {}));
        breaker.dispose();
      }
    }
    await Promise.all(leaving);
    this.fleet?.close();
  }
}
