import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CIRCUIT_STATE_VALUE, type CircuitState } from '../../core/circuit-breaker/types.js';
import { BulkheadMetrics } from './bulkhead-metrics.js';
import { FleetMetrics } from './fleet-metrics.js';
import type { PromClient } from './prom-client-loader.js';

/** Something that can list breaker states at scrape time (one per application). */
export type CircuitStateSource = () => Iterable<[name: string, state: CircuitState]>;
/** Something that can measure its dead-letter queues at scrape time (one per application). */
export type QueueSource = () => Promise<
  Iterable<[queue: string, size: number, oldestAgeSeconds: number, spooled: number | undefined]>
>;

const SOURCES = Symbol.for('nest-resilience:state-sources');

/**
 * The guide's metrics, with its names, types and labels, plus counters of our own.
 * Metrics are looked up before they are created, so two applications in one process
 * share them instead of failing on a second registration. Label values are configured
 * names (service, limiter, queue), never request data.
 */
export class ResilienceMetrics {
  readonly circuitState: Gauge<'service'>;
  readonly circuitFailures: Counter<'service'>;
  readonly circuitTransitions: Counter<'service' | 'from' | 'to'>;
  readonly circuitRejections: Counter<'service'>;
  readonly retryAttempts: Histogram<'operation'>;
  readonly retries: Counter<'operation'>;
  readonly rateLimitRejections: Counter<'key'>;
  readonly requests: Counter<'key'>;
  readonly dlqSize: Gauge<'queue'>;
  readonly dlqOldestAge: Gauge<'queue'>;
  readonly dlqSpooled: Gauge<'queue'>;
  readonly dlqAdded: Counter<'queue'>;
  readonly dlqDamaged: Counter<'queue'>;
  readonly dlqReplayed: Counter<'queue' | 'outcome'>;
  private readonly queueSources: Set<QueueSource>;
  readonly rolloutCalls: Counter<'service' | 'arm'>;
  readonly bulkheads: BulkheadMetrics;
  readonly fleet: FleetMetrics;
  private readonly stateSources: Set<CircuitStateSource>;

  constructor(
    private readonly prom: PromClient,
    private readonly prefix = '',
    private readonly registry: Registry = prom.register,
  ) {
    this.circuitState = this.gauge('circuit_breaker_state', 'Circuit breaker state (0=CLOSED, 1=HALF_OPEN, 2=OPEN)', [
      'service',
    ]);
    this.stateSources = this.sourcesOf(this.circuitState);
    this.circuitFailures = this.counter('circuit_breaker_failures_total', 'Total circuit breaker failures', [
      'service',
    ]);
    this.circuitTransitions = this.counter('circuit_breaker_transitions_total', 'Circuit breaker state transitions', [
      'service',
      'from',
      'to',
    ]);
    this.circuitRejections = this.counter(
      'circuit_breaker_rejections_total',
      'Calls rejected by an open (or saturated half-open) circuit breaker',
      ['service'],
    );
    this.retryAttempts = this.histogram(
      'retry_attempts',
      'Number of retry attempts before success',
      ['operation'],
      [1, 2, 3, 4, 5, 6, 8, 10],
    );
    this.retries = this.counter('retries_total', 'Retries performed (attempts after the first)', ['operation']);
    // `key` is the limiter's configured name, never the rate-limit key itself (a user id or an IP).
    this.rateLimitRejections = this.counter('rate_limit_rejections_total', 'Total rate limit rejections', ['key']);
    this.requests = this.counter('requests_total', 'Requests decided by a rate limiter', ['key']);
    this.dlqSize = this.queueGauge('dlq_size', 'Current DLQ size', (size) => size);
    this.dlqOldestAge = this.queueGauge(
      'dlq_oldest_message_age_seconds',
      'Age of oldest message in DLQ',
      (_, age) => age,
    );
    // Only queues with a spool (Redis backends) have this series.
    this.dlqSpooled = this.queueGauge(
      'dlq_spooled',
      'Letters kept in the local spool while the dead-letter store is unavailable',
      (_, __, spooled) => spooled,
    );
    this.queueSources = this.sourcesOf(this.dlqSize) as unknown as Set<QueueSource>;
    this.dlqAdded = this.counter('dlq_added_total', 'Letters added to a dead-letter queue', ['queue']);
    this.dlqDamaged = this.counter(
      'dlq_damaged_total',
      'Stored letters found unreadable (damaged or tampered); skipped and listed by damaged()',
      ['queue'],
    );
    this.rolloutCalls = this.counter('rollout_calls_total', 'Calls served by each arm of a gradual rollout', [
      'service',
      'arm',
    ]);
    this.dlqReplayed = this.counter('dlq_replayed_total', 'Dead letters replayed, by outcome', ['queue', 'outcome']);
    this.bulkheads = new BulkheadMetrics(prom, prefix, registry);
    this.fleet = new FleetMetrics(prom, prefix, registry);
  }

  /** Reads breaker states from `source` at every scrape until the returned function is called. */
  addCircuitStates(source: CircuitStateSource): () => void {
    this.stateSources.add(source);
    return () => this.stateSources.delete(source);
  }

  /** Measures `source`'s queues at every scrape until the returned function is called. */
  addQueues(source: QueueSource): () => void {
    this.queueSources.add(source);
    return () => this.queueSources.delete(source);
  }

  /**
   * A per-queue gauge read at scrape time. The two DLQ gauges share one set of sources
   * (kept on dlq_size), and each scrape measures each queue once per gauge.
   */
  private queueGauge(
    base: string,
    help: string,
    pick: (size: number, age: number, spooled: number | undefined) => number | undefined,
  ): Gauge<'queue'> {
    const existing = this.existing<Gauge<'queue'>>(base);
    if (existing) return existing;
    const owner = base === 'dlq_size' ? undefined : this.dlqSize;
    const sources: Set<QueueSource> = owner ? (this.sourcesOf(owner) as unknown as Set<QueueSource>) : new Set();
    const gauge = new this.prom.Gauge<'queue'>({
      name: this.name(base),
      help,
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const source of sources) {
          for (const [queue, size, age, spooled] of await source()) {
            const value = pick(size, age, spooled);
            if (value !== undefined) this.set({ queue }, value);
          }
        }
      },
    });
    if (!owner) Object.defineProperty(gauge, SOURCES, { value: sources });
    return gauge;
  }

  private name(base: string): string {
    return `${this.prefix}${base}`;
  }

  private existing<M>(base: string): M | undefined {
    return this.registry.getSingleMetric(this.name(base)) as M | undefined;
  }

  private gauge<L extends string>(base: string, help: string, labelNames: L[]): Gauge<L> {
    const existing = this.existing<Gauge<L>>(base);
    if (existing) return existing;
    const sources = new Set<CircuitStateSource>();
    const gauge = new this.prom.Gauge<L>({
      name: this.name(base),
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        // Read at scrape time (an OPEN breaker whose timeout passed reads HALF_OPEN), from
        // the applications alive now: a closed app's breakers disappear from the output.
        this.reset();
        for (const source of sources) {
          for (const [service, state] of source()) this.set({ service } as never, CIRCUIT_STATE_VALUE[state]);
        }
      },
    });
    Object.defineProperty(gauge, SOURCES, { value: sources });
    return gauge;
  }

  private sourcesOf(gauge: Gauge<string>): Set<CircuitStateSource> {
    return (gauge as unknown as Record<symbol, Set<CircuitStateSource>>)[SOURCES] ?? new Set();
  }

  private counter<L extends string>(base: string, help: string, labelNames: L[]): Counter<L> {
    return (
      this.existing<Counter<L>>(base) ??
      new this.prom.Counter<L>({ name: this.name(base), help, labelNames, registers: [this.registry] })
    );
  }

  private histogram<L extends string>(base: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    return (
      this.existing<Histogram<L>>(base) ??
      new this.prom.Histogram<L>({ name: this.name(base), help, labelNames, buckets, registers: [this.registry] })
    );
  }
}
