import {
  type CallContext,
  type CircuitBreakerOptions,
  CircuitBreakerPolicy,
  type CircuitState,
} from '../../core/circuit-breaker/index.js';
import { type Event, EventSource } from '../../core/events.js';
import type { CircuitFleet } from './circuit-fleet.js';

/** How many open replicas open every replica: a count, or a percentage of the fleet. */
export interface QuorumRule {
  replicas?: number;
  percent?: number;
  /**
   * For `percent`: the fleet is at least this many replicas. The fleet is otherwise the most
   * replicas live in the last 10 minutes (a partition must not shrink it).
   */
  fleetSize?: number;
}

export interface QuorumCircuitBreakerOptions extends Omit<CircuitBreakerOptions, 'stateStore'> {
  fleet: CircuitFleet;
  quorum: QuorumRule;
}

/**
 * Scope 'quorum': every replica keeps its own breaker and tells the fleet whether it is
 * open (a heartbeat every syncInterval, at once on a change; a replica silent for three
 * intervals is no longer live). A replica also rejects calls while the quorum is open: a
 * count of open replicas, or a percentage of the fleet (the most replicas live in the last
 * 10 minutes, at least `fleetSize`), so replicas cut off from Redis, which fall silent, do
 * not make one bad replica a majority of the rest. One replica with a private problem (its own network, its own bad
 * configuration) opens alone; a dependency down for everybody opens everybody.
 * Redis unavailable: each replica is a local breaker until Redis answers again.
 */
export class QuorumCircuitBreaker extends CircuitBreakerPolicy {
  private readonly fleet: CircuitFleet;
  private readonly rule: QuorumRule;
  private readonly leave: () => void;
  private live = 0;
  private openReplicas = 0;
  private peak = 0;
  private quorumOpen = false;
  private readonly quorumChange = new EventSource<{ live: number; open: number }>();
  /** The fleet's count changed (replicas live, replicas open). */
  readonly onQuorumChange: Event<{ live: number; open: number }> = this.quorumChange.event;

  constructor(name: string, options: QuorumCircuitBreakerOptions) {
    const { fleet, quorum, ...breakerOptions } = options;
    super(name, breakerOptions);
    const { replicas, percent } = quorum;
    if ((replicas === undefined) === (percent === undefined)) {
      throw new RangeError('quorum needs exactly one of replicas (a count) or percent');
    }
    if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 1))
      throw new RangeError(`quorum.replicas must be an integer >= 1, got ${replicas}`);
    if (percent !== undefined && !(percent > 0 && percent <= 100))
      throw new RangeError(`quorum.percent must be > 0 and <= 100, got ${percent}`);
    const { fleetSize } = quorum;
    if (fleetSize !== undefined && !(Number.isInteger(fleetSize) && fleetSize >= 1))
      throw new RangeError(`quorum.fleetSize must be an integer >= 1, got ${fleetSize}`);
    if (fleetSize !== undefined && percent === undefined)
      throw new RangeError('quorum.fleetSize applies to quorum.percent (a count of replicas needs no fleet size)');
    this.fleet = fleet;
    this.rule = quorum;
    this.leave = fleet.join(
      name,
      (message) => this.hear(message),
      () => void this.beat(),
    );
    void this.beat();
  }

  /** Replicas alive and replicas open, as last heard (both 0 before the first heartbeat answers). */
  get fleetCount(): { live: number; open: number } {
    return { live: this.live, open: this.openReplicas };
  }

  /** The fleet a percentage counts against: the most replicas live in the last 10 minutes, at least fleetSize. */
  get fleetSize(): number {
    return Math.max(this.live, this.peak, this.rule.fleetSize ?? 0);
  }

  /** True while this replica rejects calls because the quorum of replicas is open. */
  get openByQuorum(): boolean {
    return this.quorumOpen && this.fleet.available;
  }

  /** The state this replica acts on: its own, or OPEN while the quorum is. */
  override get state(): CircuitState {
    const own = super.state;
    return own === 'closed' && this.openByQuorum ? 'open' : own;
  }

  override execute<T, S = undefined>(
    fn: (context: CallContext, state: S) => T | PromiseLike<T>,
    state?: S,
  ): Promise<T> {
    if (this.quorumOpen && this.currentState === 'closed' && !this.disabled && this.fleet.available) {
      return this.reject<T>();
    }
    return super.execute(fn, state);
  }

  protected override stateChanged(): void {
    super.stateChanged();
    // Set once the constructor has run: the fleet hears this replica's changes at once.
    if (this.fleet !== undefined) void this.beat();
  }

  /** Tells the fleet whether this replica is open, and reads the count back. */
  beat(): Promise<void> {
    const open = this.currentState === 'closed' ? 0 : 1;
    const ttl = this.fleet.syncIntervalMs * 3;
    return this.fleet.run(this.name, '', 'beat', this.fleet.replicaId, open, ttl).then(
      (reply) => this.count(Number(reply[0]), Number(reply[1]), Number(reply[3] ?? 0)),
      () => this.count(this.live, this.openReplicas, this.peak),
    );
  }

  private hear(message: Record<string, unknown>): void {
    if (message.live !== undefined) this.count(Number(message.live), Number(message.open), Number(message.peak ?? 0));
  }

  private count(live: number, open: number, peak: number): void {
    const changed = live !== this.live || open !== this.openReplicas;
    this.live = live;
    this.openReplicas = open;
    this.peak = peak;
    const needed =
      this.rule.replicas !== undefined
        ? this.rule.replicas
        : Math.max(1, Math.ceil(((this.rule.percent as number) * this.fleetSize) / 100));
    const before = this.state;
    this.quorumOpen = open >= needed;
    const after = this.state;
    if (before !== after) {
      this.events.stateChange.emit({ from: before, to: after, name: this.name });
    }
    if (changed) this.quorumChange.emit({ live, open });
  }

  /** Leaves the fleet (no longer live, no longer open) and stops hearing it. */
  dispose(): Promise<void> {
    this.leave();
    return this.fleet.run(this.name, '', 'leave', this.fleet.replicaId, 0, 0).then(
      () => undefined,
      () => undefined,
    );
  }
}
