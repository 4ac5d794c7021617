import type { Registry } from 'prom-client';
import { CIRCUIT_STATE_VALUE, type CircuitState } from '../../core/circuit-breaker/types.js';
import { BulkheadMetrics } from './bulkhead-metrics.js';
import { ConfigMetrics } from './config-metrics.js';
import { FleetMetrics } from './fleet-metrics.js';
import type { CounterInstrument, GaugeRows, HistogramInstrument, MetricsBackend } from './metrics-backend.js';
import { PromMetricsBackend } from './prom-backend.js';
import type { PromClient } from './prom-client-loader.js';

/** Something that can list breaker states at scrape time (one per application). */
export type CircuitStateSource = () => Iterable<[name: string, state: CircuitState]>;
/** Something that can measure its dead-letter queues at scrape time (one per application). */
export type QueueSource = () => Promise<
  Iterable<[queue: string, size: number, oldestAgeSeconds: number, spooled: number | undefined]>
>;

type QueuePick = (size: number, age: number, spooled: number | undefined) => number | undefined;

type Measured = [queue: string, size: number, oldestAgeSeconds: number, spooled: number | undefined][];

/**
 * The measurement the queue gauges of one collection share. prom-client and the OpenTelemetry
 * SDK start every gauge's collection in one synchronous pass, so a measurement kept until the
 * next microtask serves the three gauges and never a later scrape.
 */
const measuring = new WeakMap<ReadonlySet<QueueSource>, Promise<Measured>>();

/** Every source's queues, measured once per collection (a Redis or SQS call each, not three). */
function measure(sources: ReadonlySet<QueueSource>): Promise<Measured> {
  const pending = measuring.get(sources);
  if (pending) return pending;
  const rows = Promise.all([...sources].map((source) => source())).then((all) => all.flatMap((rows) => [...rows]));
  measuring.set(sources, rows);
  queueMicrotask(() => measuring.delete(sources));
  return rows;
}

/** The value `pick` takes of each queue (none: no series). */
async function queueRows(sources: ReadonlySet<QueueSource>, pick: QueuePick): Promise<GaugeRows> {
  const rows: [Record<string, string>, number][] = [];
  for (const [queue, size, age, spooled] of await measure(sources)) {
    const value = pick(size, age, spooled);
    if (value !== undefined) rows.push([{ queue }, value]);
  }
  return rows;
}

/**
 * The guide's metrics, with its names, types and labels, plus counters of our own, in
 * prom-client or through OpenTelemetry (see MetricsBackend). Label values are configured
 * names (service, limiter, queue), never request data.
 */
export class ResilienceMetrics {
  readonly backend: MetricsBackend;
  readonly circuitFailures: CounterInstrument<'service'>;
  readonly circuitTransitions: CounterInstrument<'service' | 'from' | 'to'>;
  readonly circuitRejections: CounterInstrument<'service'>;
  readonly retryAttempts: HistogramInstrument<'operation'>;
  readonly retries: CounterInstrument<'operation'>;
  readonly rateLimitRejections: CounterInstrument<'key'>;
  readonly rateLimitRejectionsByCriticality: CounterInstrument<'key' | 'criticality'>;
  readonly requests: CounterInstrument<'key'>;
  readonly dlqAdded: CounterInstrument<'queue'>;
  readonly dlqDamaged: CounterInstrument<'queue'>;
  readonly dlqSpoolDrained: CounterInstrument<'queue'>;
  readonly dlqReplayed: CounterInstrument<'queue' | 'outcome'>;
  readonly rolloutCalls: CounterInstrument<'service' | 'arm'>;
  readonly timeouts: CounterInstrument<'service' | 'per'>;
  readonly deadlinesExceeded: CounterInstrument<'service'>;
  /** `fallbacks_total`: counted by the fallback's descriptor (the same instrument, found by name). */
  readonly fallbacks: CounterInstrument<'service' | 'outcome'>;
  readonly bulkheads: BulkheadMetrics;
  readonly fleet: FleetMetrics;
  readonly config: ConfigMetrics;
  private readonly stateSources: Set<CircuitStateSource>;
  private readonly queueSources: Set<QueueSource>;

  /** With prom-client itself (and a registry, prom-client's default one unless given), or any MetricsBackend. */
  constructor(
    source: PromClient | MetricsBackend,
    /** Put before every name (`metrics.prefix`), the counters of patterns defined through a descriptor included. */
    readonly prefix = '',
    registry?: Registry,
  ) {
    const backend = 'kind' in source ? source : new PromMetricsBackend(source, registry ?? source.register);
    this.backend = backend;
    const name = (base: string) => `${prefix}${base}`;
    const counter = <L extends string>(base: string, help: string, unit: string, labelNames: L[]) =>
      backend.counter({ name: name(base), help, unit, labelNames });
    // Read at scrape time: an OPEN breaker whose timeout passed reads HALF_OPEN.
    this.stateSources = backend.gauge<CircuitStateSource>(
      {
        name: name('circuit_breaker_state'),
        help: 'Circuit breaker state (0=CLOSED, 1=HALF_OPEN, 2=OPEN)',
        unit: '{state}',
        labelNames: ['service'],
      },
      (sources) =>
        [...sources].flatMap((source) =>
          [...source()].map(
            ([service, state]) => [{ service }, CIRCUIT_STATE_VALUE[state]] as [Record<string, string>, number],
          ),
        ),
    );
    this.circuitFailures = counter('circuit_breaker_failures_total', 'Total circuit breaker failures', '{failure}', [
      'service',
    ]);
    this.circuitTransitions = counter(
      'circuit_breaker_transitions_total',
      'Circuit breaker state transitions',
      '{transition}',
      ['service', 'from', 'to'],
    );
    this.circuitRejections = counter(
      'circuit_breaker_rejections_total',
      'Calls rejected by an open (or saturated half-open) circuit breaker',
      '{call}',
      ['service'],
    );
    this.retryAttempts = backend.histogram({
      name: name('retry_attempts'),
      help: 'Number of retry attempts before success',
      unit: '{attempt}',
      labelNames: ['operation'],
      buckets: [1, 2, 3, 4, 5, 6, 8, 10],
    });
    this.retries = counter('retries_total', 'Retries performed (attempts after the first)', '{retry}', ['operation']);
    // `key` is the limiter's configured name, never the rate-limit key itself (a user id or an IP).
    this.rateLimitRejections = counter('rate_limit_rejections_total', 'Total rate limit rejections', '{request}', [
      'key',
    ]);
    this.rateLimitRejectionsByCriticality = counter(
      'rate_limit_rejections_by_criticality_total',
      "Calls of a pipeline refused by a rate limiter, by the call's criticality (critical_plus, critical, sheddable_plus, sheddable)",
      '{request}',
      ['key', 'criticality'],
    );
    this.requests = counter('requests_total', 'Requests decided by a rate limiter', '{request}', ['key']);
    // The three queue gauges read one set of sources; each collection measures each queue once per gauge.
    const queueGauge = (base: string, help: string, unit: string, pick: QueuePick, shared?: Set<QueueSource>) =>
      backend.gauge<QueueSource>(
        { name: name(base), help, unit, labelNames: ['queue'] },
        (sources) => queueRows(sources, pick),
        shared,
      );
    this.queueSources = queueGauge('dlq_size', 'Current DLQ size', '{letter}', (size) => size);
    queueGauge(
      'dlq_oldest_message_age_seconds',
      'Age of oldest message in DLQ',
      's',
      (_, age) => age,
      this.queueSources,
    );
    // Only queues with a spool (Redis backends) have this series.
    queueGauge(
      'dlq_spooled',
      'Letters kept in the local spool while the dead-letter store is unavailable',
      '{letter}',
      (_, __, spooled) => spooled,
      this.queueSources,
    );
    this.dlqAdded = counter('dlq_added_total', 'Letters added to a dead-letter queue', '{letter}', ['queue']);
    this.dlqSpoolDrained = counter(
      'dlq_spool_drained_total',
      'Letters moved from the local spool into the dead-letter store once it answered (its rate is the drain rate)',
      '{letter}',
      ['queue'],
    );
    this.dlqDamaged = counter(
      'dlq_damaged_total',
      'Stored letters found unreadable (damaged or tampered); skipped and listed by damaged()',
      '{letter}',
      ['queue'],
    );
    this.rolloutCalls = counter('rollout_calls_total', 'Calls served by each arm of a gradual rollout', '{call}', [
      'service',
      'arm',
    ]);
    this.dlqReplayed = counter('dlq_replayed_total', 'Dead letters replayed, by outcome', '{letter}', [
      'queue',
      'outcome',
    ]);
    this.timeouts = counter(
      'timeouts_total',
      'Calls (per: call) or attempts (per: attempt) that ran past their timeout',
      '{call}',
      ['service', 'per'],
    );
    this.deadlinesExceeded = counter(
      'deadlines_exceeded_total',
      "Calls refused or stopped because their caller's deadline passed",
      '{call}',
      ['service'],
    );
    this.fallbacks = counter(
      'fallbacks_total',
      'Failed calls a fallback answered (outcome answered) or that its handler failed too (outcome failed)',
      '{call}',
      ['service', 'outcome'],
    );
    this.bulkheads = new BulkheadMetrics(backend, prefix);
    this.fleet = new FleetMetrics(backend, prefix);
    this.config = new ConfigMetrics(backend, prefix);
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
}
