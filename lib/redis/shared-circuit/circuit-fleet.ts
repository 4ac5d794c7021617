import { hostname } from 'node:os';
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../core/clock.js';
import { OpIds, sendOnce } from '../op-ids.js';
import { CIRCUIT_LUA } from './circuit.lua.js';

const COMMAND = 'nestResilienceCircuit';

/** The fleet's record of one breaker, as a script call or a published transition returns it. */
export interface FleetState {
  state: 'closed' | 'open' | 'half_open';
  gen: number;
  /** Server epoch ms at which OPEN admits a trial (-1 while forced open). */
  openUntil: number;
  forced: boolean;
  /** The server's clock when the record was read: openUntil - now is the time left. */
  now: number;
  fseq: number;
  /** Changes when the record is created anew (e.g. after it expired): generations restart. */
  epoch: string;
  granted: boolean;
}

/** Quorum scope: replicas alive and replicas open. */
export interface QuorumCount {
  live: number;
  open: number;
}

export interface CircuitFleetOptions {
  client: Redis | Cluster;
  /** Keys are `{<keyPrefix>:circuit:<name>}...`, one hash slot per breaker. Default 'nest-resilience'. */
  keyPrefix?: string;
  /** How often each breaker re-reads its record, besides the published transitions. Default 1000 ms. */
  syncIntervalMs?: number;
  /** Tests only: the time sent to the scripts instead of the server's TIME. */
  serverClock?: Clock;
  /** Told of each failed store call, with the breaker's name (the breakers act on their own meanwhile). */
  onError?: (error: unknown, name: string) => void;
  /** Told once per outage, and when the store answers again. */
  onAvailabilityChange?: (available: boolean, error?: unknown) => void;
}

type ScriptClient = { [COMMAND](...args: (string | number)[]): Promise<(string | number)[]> };
type Listener = (message: Record<string, unknown>) => void;

/**
 * The link between this process's shared breakers and their records in Redis: one script
 * for every transition, one subscription for every breaker's published changes, one
 * timer re-reading them. `available` is false from a failed call until one succeeds again.
 */
export class CircuitFleet {
  readonly replicaId = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  readonly channel: string;
  readonly syncIntervalMs: number;
  private readonly client: Redis | Cluster;
  private readonly prefix: string;
  private readonly options: CircuitFleetOptions;
  private subscriber?: Redis | Cluster;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly syncers = new Set<() => void>();
  private timer?: NodeJS.Timeout;
  private up = true;
  private closed = false;
  private readonly opIds = new OpIds();

  constructor(options: CircuitFleetOptions) {
    this.options = options;
    this.client = options.client;
    this.prefix = options.keyPrefix ?? 'nest-resilience';
    this.channel = `${this.prefix}:circuit-events`;
    this.syncIntervalMs = options.syncIntervalMs ?? 1000;
    if (!(COMMAND in this.client)) this.client.defineCommand(COMMAND, { lua: CIRCUIT_LUA, numberOfKeys: 5 });
  }

  /** False while Redis cannot answer: the breakers act on their own. */
  get available(): boolean {
    return this.up;
  }

  /** Runs one op of the script for breaker `name`. Rejects when Redis cannot answer (and marks the fleet unavailable). */
  async run(name: string, settings: string, op: string, ...args: (string | number)[]): Promise<(string | number)[]> {
    const base = `{${this.prefix}:circuit:${name}}`;
    // Counting ops carry an id: sent again after a lost reply, they count once.
    const opId = op === 'fail' || op === 'ok' ? this.opIds.id() : '';
    const script = this.client as unknown as ScriptClient;
    try {
      const reply = await sendOnce(
        () =>
          script[COMMAND](
            base,
            `${base}:leases`,
            `${base}:window`,
            `${base}:replicas`,
            `${base}:open`,
            op,
            this.options.serverClock ? this.options.serverClock.now() : -1,
            this.channel,
            name,
            settings,
            opId,
            ...args,
          ),
        this.client,
      );
      this.markAvailable(true);
      return reply;
    } catch (error) {
      this.options.onError?.(error, name);
      this.markAvailable(false, error);
      throw error;
    }
  }

  /** A breaker's record as the script returns it. */
  static parse(reply: (string | number)[]): FleetState {
    return {
      state: String(reply[0]) as FleetState['state'],
      gen: Number(reply[1]),
      openUntil: Number(reply[2]),
      forced: Number(reply[3]) === 1,
      now: Number(reply[4]),
      fseq: Number(reply[5]),
      epoch: String(reply[6]),
      granted: Number(reply[7]) === 1,
    };
  }

  /** Hears the transitions other replicas publish for `name`; `sync` runs every syncInterval. */
  join(name: string, listener: Listener, sync: () => void): () => void {
    const set = this.listeners.get(name) ?? new Set<Listener>();
    this.listeners.set(name, set);
    set.add(listener);
    this.syncers.add(sync);
    this.start();
    return () => {
      set.delete(listener);
      this.syncers.delete(sync);
    };
  }

  private start(): void {
    if (this.closed) return;
    if (!this.timer) {
      this.timer = setInterval(() => this.syncAll(), this.syncIntervalMs);
      this.timer.unref();
    }
    if (this.subscriber) return;
    const subscriber = (this.client as Redis).duplicate();
    this.subscriber = subscriber;
    // A published change is only a shortcut (the timer re-reads): errors are the reads' to report.
    subscriber.on('error', () => {});
    subscriber.on('message', (_channel: string, text: string) => this.deliver(text));
    // The client sends nothing before it is connected (no offline queue): subscribe once ready,
    // again after a reconnect; then re-read every record, for what was published meanwhile.
    subscriber.on('ready', () =>
      subscriber.subscribe(this.channel).then(
        () => this.syncAll(),
        () => {},
      ),
    );
  }

  private syncAll(): void {
    for (const sync of this.syncers) sync();
  }

  private deliver(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const set = this.listeners.get(String(message.name));
    if (set) for (const listener of set) listener(message);
  }

  private markAvailable(available: boolean, error?: unknown): void {
    if (this.up === available) return;
    this.up = available;
    this.options.onAvailabilityChange?.(available, error);
  }

  /** Stops the timer and the subscription (the client itself is its owner's to close). */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}
