import {
  type CallContext,
  type CircuitBreakerOptions,
  CircuitBreakerPolicy,
} from '../../core/circuit-breaker/index.js';
import { CountWindow, type TimeWindow } from '../../core/circuit-breaker/window.js';
import { CircuitFleet, type FleetState } from './circuit-fleet.js';

export interface SharedCircuitBreakerOptions extends Omit<CircuitBreakerOptions, 'stateStore' | 'window'> {
  fleet: CircuitFleet;
  /** Successes are reported to the fleet in one call per this many ms at most. Default 200. */
  successBatchMs?: number;
}

/**
 * One breaker for every replica (scope 'shared'): the state machine lives in Redis, and
 * this process acts on its last known copy of it.
 *
 * - CLOSED: calls run with no Redis call. Successes go to the fleet in batches; a counted
 *   failure is one round trip that returns the fleet's state, and the failing call settles
 *   after it (its caller's next call sees an opening at once).
 * - OPEN: rejected locally until the fleet's deadline (server clock, carried over as time left).
 * - HALF_OPEN: a trial needs a lease from the fleet (halfOpenMaxCalls in the whole fleet);
 *   a lease expires after halfOpenTrialTimeout if its holder dies.
 * - Openings and closings are published: every replica hears them at once; each also re-reads
 *   the record every syncInterval.
 * - Redis unavailable: the breaker acts alone, as a local breaker starting from the last
 *   state it knew, with no call waiting on Redis; at the next successful read it takes the
 *   fleet's state again.
 */
export class SharedCircuitBreaker extends CircuitBreakerPolicy {
  private readonly fleet: CircuitFleet;
  private readonly settingsArg: string;
  private readonly successBatchMs: number;
  private readonly leave: () => void;
  private fleetGen = -1;
  private epoch = '';
  /** The highest failure sequence number this replica has seen. */
  private knownSeq = 0;
  private seenAtSuccess = 0;
  private successes = 0;
  private slowSuccesses = 0;
  private flushTimer?: NodeJS.Timeout;
  private readonly leases: string[] = [];
  private leaseCounter = 0;
  private alone = false;
  private reading?: Promise<void>;
  /** Until the first read answers, calls wait for it (a restarted replica never acts on a stale CLOSED). */
  private firstRead?: Promise<void>;
  private control: Promise<void> = Promise.resolve();

  constructor(name: string, options: SharedCircuitBreakerOptions) {
    const { fleet, successBatchMs, ...breakerOptions } = options;
    super(name, breakerOptions);
    this.fleet = fleet;
    this.successBatchMs = successBatchMs ?? 200;
    this.settingsArg = this.scriptSettings();
    this.leave = fleet.join(
      name,
      (message) => this.hear(message),
      () => void this.refresh(),
    );
    this.firstRead = this.refresh().then(() => {
      this.firstRead = undefined;
    });
  }

  /** The settings the script applies, as its ARGV[5] (see circuit.lua.ts; -1 = none). */
  private scriptSettings(): string {
    const rule = this.rateRule;
    const window = rule?.window as CountWindow | TimeWindow | undefined;
    const windowType = window === undefined ? 0 : window instanceof CountWindow ? 1 : 2;
    const threshold = Number.isFinite(this.failureThreshold) ? this.failureThreshold : -1;
    return [
      threshold,
      this.successThreshold,
      this.openMs,
      this.timeoutMultiplier,
      this.maxOpenMs,
      this.halfOpenMaxCalls,
      this.trialLeaseMs,
      windowType,
      window?.size ?? 0,
      rule?.minimumCalls ?? 0,
      rule?.failureRate ?? -1,
      rule?.slowRate ?? -1,
    ].join('|');
  }

  /** False while Redis cannot answer and this breaker acts alone. */
  get sharing(): boolean {
    return !this.alone;
  }

  override execute<T, S = undefined>(
    fn: (context: CallContext, state: S) => T | PromiseLike<T>,
    state?: S,
  ): Promise<T> {
    if (this.firstRead) return this.firstRead.then(() => this.execute(fn, state));
    if (!this.alone && !this.fleet.available) this.goAlone();
    if (this.alone || this.disabled) return super.execute(fn, state);
    const s = this.currentState;
    if (s === 'half_open' || (s === 'open' && !this.forced && this.clock.now() >= this.openUntil)) {
      return this.askForTrial(fn, state as S);
    }
    return super.execute(fn, state);
  }

  /** A half-open trial runs only under a lease from the fleet. */
  private askForTrial<T, S>(fn: (context: CallContext, state: S) => T | PromiseLike<T>, state: S): Promise<T> {
    const lease = `${this.fleet.replicaId}:${++this.leaseCounter}`;
    return this.fleet.run(this.name, this.settingsArg, 'trial', lease).then(
      (reply) => {
        const fleet = CircuitFleet.parse(reply);
        this.adopt(fleet);
        if (fleet.granted) {
          this.leases.push(lease);
          return super.execute(fn, state);
        }
        return fleet.state === 'closed' ? super.execute(fn, state) : this.reject<T>();
      },
      () => {
        this.goAlone();
        return super.execute(fn, state);
      },
    );
  }

  protected override countClosed(failed: boolean, slow: boolean, now: number): boolean {
    if (this.alone) return super.countClosed(failed, slow, now);
    if (!failed) {
      this.successes++;
      if (slow) this.slowSuccesses++;
      this.seenAtSuccess = this.knownSeq;
      if (this.flushTimer === undefined) this.scheduleFlush();
      return false;
    }
    this.pendingReport = this.report('fail', this.fleetGen, slow ? 1 : 0);
    return false;
  }

  protected override trialEnded(outcome: 'success' | 'failure' | 'uncounted'): void {
    if (this.alone) {
      super.trialEnded(outcome);
      return;
    }
    const lease = this.leases.shift();
    if (lease === undefined) return;
    this.pendingReport = this.report('trialEnd', this.fleetGen, lease, outcome);
  }

  private scheduleFlush(): void {
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flushSuccesses();
    }, this.successBatchMs);
    this.flushTimer.unref?.();
  }

  /** Sends the successes counted since the last batch (rate windows, and the consecutive count's reset). */
  flushSuccesses(): Promise<void> {
    if (this.successes === 0 || this.alone) return Promise.resolve();
    const calls = this.successes;
    const slow = this.slowSuccesses;
    this.successes = 0;
    this.slowSuccesses = 0;
    return this.report('ok', this.fleetGen, slow, calls, this.seenAtSuccess);
  }

  /** One script call whose answer this replica adopts; a failure makes it act alone. */
  private report(op: string, ...args: (string | number)[]): Promise<void> {
    return this.fleet.run(this.name, this.settingsArg, op, ...args).then(
      (reply) => this.adopt(CircuitFleet.parse(reply)),
      () => this.goAlone(),
    );
  }

  /** Reads the fleet's record now (also every syncInterval, and to come back after an outage). */
  refresh(): Promise<void> {
    if (this.reading) return this.reading;
    this.reading = this.fleet.run(this.name, this.settingsArg, 'read').then(
      (reply) => {
        this.reading = undefined;
        if (this.alone) {
          // Back from an outage: the fleet's record wins over what this replica did alone.
          this.alone = false;
          this.fleetGen = -1;
        }
        this.adopt(CircuitFleet.parse(reply));
      },
      () => {
        this.reading = undefined;
        this.goAlone();
      },
    );
    return this.reading;
  }

  private hear(message: Record<string, unknown>): void {
    if (this.alone || message.state === undefined) return;
    this.adopt({
      state: message.state as FleetState['state'],
      gen: Number(message.gen),
      openUntil: Number(message.openUntil),
      forced: Number(message.forced) === 1,
      now: Number(message.now),
      fseq: Number(message.fseq),
      epoch: String(message.epoch),
      granted: false,
    });
  }

  /** Acts on the fleet's record if it is newer than the one this replica acts on. */
  private adopt(fleet: FleetState): void {
    if (this.alone) return;
    const sameEpoch = fleet.epoch === this.epoch;
    if (!sameEpoch || fleet.fseq > this.knownSeq) this.knownSeq = fleet.fseq;
    if (sameEpoch && fleet.gen <= this.fleetGen) return;
    this.epoch = fleet.epoch;
    this.fleetGen = fleet.gen;
    this.forced = fleet.forced;
    this.openUntil = fleet.forced ? Number.POSITIVE_INFINITY : this.clock.now() + (fleet.openUntil - fleet.now);
    this.successes = 0;
    this.slowSuccesses = 0;
    this.leases.length = 0;
    this.transition(fleet.state);
  }

  private goAlone(): void {
    if (this.alone) return;
    this.alone = true;
    this.leases.length = 0;
    this.successes = 0;
    this.slowSuccesses = 0;
  }

  /** Opens the breaker for the whole fleet, until forceClose() or reset(). */
  override forceOpen(): void {
    super.forceOpen();
    this.controlFleet('forceOpen');
  }

  /** Closes the breaker for the whole fleet. */
  override forceClose(): void {
    super.forceClose();
    this.controlFleet('forceClose');
  }

  /** A fresh CLOSED breaker for the whole fleet (disable() stays this replica's own switch). */
  override reset(): void {
    super.reset();
    this.controlFleet('reset');
  }

  private controlFleet(op: string): void {
    if (this.fleet === undefined) return;
    this.control = this.control.then(() => this.report(op));
  }

  /** Resolves once the fleet-wide controls and reports asked for so far are done. */
  async settled(): Promise<void> {
    await this.control;
    await this.flushSuccesses();
    await this.pendingReport;
  }

  /** Stops hearing the fleet (the record stays in Redis for the other replicas). */
  dispose(): void {
    this.leave();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}
