import { Injectable } from '@nestjs/common';
import type { CircuitState } from '../../core/circuit-breaker/types.js';
import { CircuitBreakerService } from '../services/circuit-breaker.service.js';

export type HealthStatus = 'up' | 'degraded' | 'down';

/** Terminus's HealthIndicatorResult shape: `{ [key]: { status, ...details } }`. */
export type ResilienceHealthResult = Record<
  string,
  { status: HealthStatus; circuits: Record<string, { state: CircuitState; tier: string; retryAfter?: number }> }
>;

/**
 * A Terminus health indicator: `health.check([() => indicator.isHealthy('resilience')])`.
 * An open breaker of a critical-tier service is `down` (503); any other open or half-open
 * breaker is `degraded` (200, still serving). It returns the result Terminus 12 expects
 * without importing @nestjs/terminus, which stays an optional peer.
 */
@Injectable()
export class ResilienceHealthIndicator {
  constructor(private readonly circuits: CircuitBreakerService) {}

  isHealthy(key = 'resilience'): ResilienceHealthResult {
    let status: HealthStatus = 'up';
    const circuits: ResilienceHealthResult[string]['circuits'] = {};
    for (const [name, breaker] of this.circuits.all()) {
      const state = breaker.state;
      const tier = this.circuits.tierOf(name);
      circuits[name] = state === 'open' ? { state, tier, retryAfter: breaker.retryAfter } : { state, tier };
      if (state === 'open' && tier === 'critical') status = 'down';
      else if (state !== 'closed' && status === 'up') status = 'degraded';
    }
    return { [key]: { status, circuits } };
  }
}
