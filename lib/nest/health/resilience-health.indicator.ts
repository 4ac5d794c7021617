import { Inject, Injectable, Optional } from '@nestjs/common';
import type { HealthIndicatorStatus } from '@nestjs/terminus';
import type { Cluster, Redis } from 'ioredis';
import type { CircuitBreakerPolicy } from '../../core/circuit-breaker/circuit-breaker.js';
import type { CircuitState } from '../../core/circuit-breaker/types.js';
import { QuorumCircuitBreaker } from '../../redis/shared-circuit/quorum-breaker.js';
import { SharedCircuitBreaker } from '../../redis/shared-circuit/shared-breaker.js';
import { RESILIENCE_REDIS } from '../redis/redis.provider.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { BulkheadService } from '../services/bulkhead.service.js';
import { CircuitBreakerService } from '../services/circuit-breaker.service.js';
import { DeadLetterService } from '../services/dead-letter.service.js';
import { terminusHasDegraded } from './terminus-version.js';

export type HealthStatus = 'up' | 'degraded' | 'down';

/**
 * Terminus's HealthIndicatorResult shape: `{ [key]: { status, ...details } }`. `status` has the
 * type of the installed Terminus ('up' | 'down' in 11, also 'degraded' in 12); `state` is ours,
 * three-valued whichever major is installed.
 */
export type ResilienceHealthResult = Record<
  string,
  {
    status: HealthIndicatorStatus;
    state: HealthStatus;
    /** `sharing: false`: a shared or quorum breaker that cannot reach Redis and acts on its own. */
    circuits: Record<string, { state: CircuitState; tier: string; retryAfter?: number; sharing?: boolean }>;
    queues: Record<string, { status: HealthStatus; size: number; alertThreshold: number }>;
    bulkheads: Record<string, { status: HealthStatus; inFlight: number; limit: number; queued: number }>;
    redis?: { status: HealthStatus; connection: string };
    /** The configuration version in force (1 at bootstrap, one more per applied reload). */
    configVersion?: number;
  }
>;

const RANK: Record<HealthStatus, number> = { up: 0, degraded: 1, down: 2 };
const worst = (a: HealthStatus, b: HealthStatus): HealthStatus => (RANK[b] > RANK[a] ? b : a);

/**
 * A Terminus health indicator: `health.check([() => indicator.isHealthy('resilience')])`.
 * - breakers: an open critical-tier breaker is `down` (503); any other open or half-open
 *   one is `degraded` (200, still serving), and so is a shared or quorum one acting alone
 *   while Redis is unreachable;
 * - dead-letter queues: a queue at its alert threshold is `down`;
 * - bulkheads: one with every slot taken is `degraded` (it sheds load, the service still serves);
 * - Redis, when configured: not connected, or connected but not answering a PING (a
 *   partition; `connection: 'unreachable'`), is `down` if a dead-letter queue lives there
 *   (letters could not be kept), else `degraded` (limiters decide by their failure mode).
 * Terminus 11 has no `degraded`: there a degraded result is `status: 'up'` (it still serves),
 * `state: 'degraded'`. @nestjs/terminus stays an optional peer: only its version is read.
 * `configVersion` tells which configuration version this replica runs.
 */
@Injectable()
export class ResilienceHealthIndicator {
  constructor(
    private readonly circuits: CircuitBreakerService,
    private readonly deadLetters: DeadLetterService,
    private readonly bulkheadService: BulkheadService,
    @Optional() @Inject(RESILIENCE_REDIS) private readonly redis?: Redis | Cluster | null,
    @Optional() private readonly settings?: ResilienceSettings,
  ) {}

  async isHealthy(key = 'resilience'): Promise<ResilienceHealthResult> {
    let status: HealthStatus = 'up';
    // 'ready' only says the socket is open: a partition keeps it open and swallows every
    // command. A PING (bounded by the command timeout, read beside the queues) says whether Redis answers.
    const answering =
      this.redis?.status === 'ready'
        ? this.redis.ping().then(
            () => true,
            () => false,
          )
        : Promise.resolve(false);
    const circuits: ResilienceHealthResult[string]['circuits'] = {};
    for (const [name, breaker] of this.circuits.all()) {
      const state = breaker.state;
      const tier = this.circuits.tierOf(name);
      circuits[name] = state === 'open' ? { state, tier, retryAfter: breaker.retryAfter } : { state, tier };
      if (state === 'open' && tier === 'critical') status = 'down';
      else if (state !== 'closed') status = worst(status, 'degraded');
      const sharing = this.sharing(breaker);
      if (sharing !== undefined) circuits[name].sharing = sharing;
      if (sharing === false) status = worst(status, 'degraded');
    }
    const queues: ResilienceHealthResult[string]['queues'] = {};
    let redisQueues = false;
    // Read at once: each may wait a command timeout when its store does not answer.
    const entries = [...this.deadLetters.all()];
    const sizes = await Promise.all(entries.map(([, queue]) => queue.size().catch(() => Number.NaN)));
    entries.forEach(([name, queue], i) => {
      redisQueues ||= queue.backend.kind === 'redis';
      const size = sizes[i];
      const queueStatus: HealthStatus = queue.isAlerting || size >= queue.alertThreshold ? 'down' : 'up';
      queues[name] = { status: queueStatus, size, alertThreshold: queue.alertThreshold };
      status = worst(status, queueStatus);
    });
    const bulkheads: ResilienceHealthResult[string]['bulkheads'] = {};
    for (const [name, bulkhead] of this.bulkheadService.all()) {
      const bulkheadStatus: HealthStatus = bulkhead.saturated ? 'degraded' : 'up';
      const { inFlight, limit, queued } = bulkhead;
      bulkheads[name] = { status: bulkheadStatus, inFlight, limit, queued };
      status = worst(status, bulkheadStatus);
    }
    let redis: ResilienceHealthResult[string]['redis'];
    if (this.redis) {
      const connected = await answering;
      const redisStatus: HealthStatus = connected ? 'up' : redisQueues ? 'down' : 'degraded';
      const connection = this.redis.status === 'ready' && !connected ? 'unreachable' : this.redis.status;
      redis = { status: redisStatus, connection };
      status = worst(status, redisStatus);
    }
    const reported = (status === 'degraded' && !terminusHasDegraded() ? 'up' : status) as HealthIndicatorStatus;
    const result: ResilienceHealthResult[string] = { status: reported, state: status, circuits, queues, bulkheads };
    if (this.settings) result.configVersion = this.settings.version;
    if (redis) result.redis = redis;
    return { [key]: result };
  }

  /** Whether a shared or quorum breaker reaches its fleet (undefined for a local one). */
  private sharing(breaker: CircuitBreakerPolicy): boolean | undefined {
    if (breaker instanceof SharedCircuitBreaker) return breaker.sharing;
    if (breaker instanceof QuorumCircuitBreaker) return this.circuits.fleetAvailable;
    return undefined;
  }
}
