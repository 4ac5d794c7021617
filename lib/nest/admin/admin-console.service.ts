import type { Socket } from 'node:net';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Subject } from 'rxjs';
import type { Clock } from '../../core/clock.js';
import type { ReplayReport } from '../../core/dead-letter/replay.js';
import { ChaosExperiments } from '../chaos/chaos-experiments.js';
import { RolloutShares } from '../pipeline/rollout-shares.js';
import { ConfigReloads } from '../reload/config-reloads.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { BulkheadService } from '../services/bulkhead.service.js';
import { CircuitBreakerService } from '../services/circuit-breaker.service.js';
import { DeadLetterService } from '../services/dead-letter.service.js';
import { RateLimiterService } from '../services/rate-limiter.service.js';
import { RESILIENCE_CLOCK } from '../timing.js';
import { RESILIENCE_ADMIN } from './admin-access.js';
import { AdminHistory, SAMPLE_MS } from './admin-history.js';
import type { AdminSettings } from './admin-options.js';
import { breakerView, bulkheadView, letterFilter, limiterView, pageLimit, queueView } from './admin-views.js';
import { PatternTallies } from './pattern-tallies.js';
import { redact } from './redact.js';

/** An operator's request the console cannot carry out: the controller answers it with this status. */
export class AdminRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

export type BreakerAction = 'force-open' | 'force-close' | 'reset';

/**
 * What the operator's console reads and does, framework-free of HTTP: views of every
 * breaker, limiter, bulkhead, queue and rollout, their history (AdminHistory), and the actions.
 * `changes` ticks at each breaker transition, so the page hears of one at once.
 */
@Injectable()
export class AdminConsole implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly history: AdminHistory;
  readonly changes = new Subject<void>();
  /** Ends every event stream before the HTTP server closes: an open page must not hold app.close(). */
  readonly closing = new Subject<void>();
  /** The connections of the live event streams (kept alive by HTTP/1.1 once a stream ends). */
  private readonly streamSockets = new Set<Socket>();
  private readonly offs: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private sampling = false;
  private readonly replaying = new Set<string>();
  private readonly shutdown = new AbortController();
  private shared?: { at: number; status: ReturnType<AdminConsole['status']> };

  constructor(
    @Inject(RESILIENCE_ADMIN) private readonly admin: AdminSettings,
    private readonly settings: ResilienceSettings,
    private readonly breakers: CircuitBreakerService,
    private readonly limiters: RateLimiterService,
    private readonly deadLetters: DeadLetterService,
    private readonly shares: RolloutShares,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    private readonly bulkheads: BulkheadService,
    private readonly chaos: ChaosExperiments,
    private readonly reloads: ConfigReloads,
    private readonly tallies: PatternTallies,
  ) {
    this.history = new AdminHistory(clock);
  }

  onModuleInit(): void {
    this.offs.push(
      this.breakers.subscribe({
        onStateChange: (from, to, name) => {
          this.history.recordTransition(name, from, to);
          this.shared = undefined;
          this.changes.next();
        },
      }),
      this.limiters.subscribe({ onDecision: (name, allowed) => this.history.recordDecision(name, allowed) }),
      this.bulkheads.subscribe({
        onLimitChanged: (name, _limit, change) => this.history.recordLimitChange(name, change),
        onLimitSwing: (name, swing) => this.history.recordLimitSwing(name, swing),
      }),
    );
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  /** An event stream's connection, ended at shutdown; returns the release for when the stream ends first. */
  holdStream(socket: Socket | undefined): () => void {
    if (!socket) return () => {};
    this.streamSockets.add(socket);
    return () => this.streamSockets.delete(socket);
  }

  async beforeApplicationShutdown(): Promise<void> {
    // A replay stops before its next letter (it held app.close() and ran letters during it).
    this.shutdown.abort();
    this.closing.next();
    this.closing.complete();
    // The streams' last chunk is written; then their connections end, rather than stay open
    // as idle keep-alive ones that the server's close() would wait for.
    await new Promise((resolve) => setImmediate(resolve));
    for (const socket of this.streamSockets) socket.end();
    this.streamSockets.clear();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    for (const off of this.offs.splice(0)) off();
    this.changes.complete();
  }

  /** One sample of the series: limiter counts and queue sizes (a slow store skips a sample rather than piling up). */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const sizes = new Map<string, number | null>();
      await Promise.all(
        [...this.deadLetters.all()].map(async ([name, queue]) => {
          sizes.set(name, await queue.size().catch(() => null));
        }),
      );
      const limits = new Map([...this.bulkheads.all()].map(([name, bulkhead]) => [name, bulkhead.limit]));
      this.history.sample(sizes, limits);
    } finally {
      this.sampling = false;
    }
  }

  breakerList() {
    return [...this.breakers.all()].map(([name, breaker]) =>
      breakerView(name, breaker, this.breakers.tierOf(name), this.history),
    );
  }

  breaker(name: string) {
    const breaker = this.breakers.all().get(name);
    if (!breaker) throw new AdminRequestError(404, `no circuit breaker ${JSON.stringify(name)}`);
    return breakerView(name, breaker, this.breakers.tierOf(name), this.history);
  }

  async actOnBreaker(name: string, action: BreakerAction) {
    const breaker = this.breakers.all().get(name);
    if (!breaker) throw new AdminRequestError(404, `no circuit breaker ${JSON.stringify(name)}`);
    // A shared breaker acts fleet-wide and may answer with a promise.
    if (action === 'force-open') await breaker.forceOpen();
    else if (action === 'force-close') await breaker.forceClose();
    else await breaker.reset();
    return this.breaker(name);
  }

  limiterList() {
    return [...this.limiters.all()].map(([name, limiter]) =>
      limiterView(name, limiter, this.limiterKey(name), this.history),
    );
  }

  private limiterKey(name: string): unknown {
    try {
      const settings = this.limiters.settingsOf(name);
      return settings.keyFunc ?? settings.key;
    } catch {
      return undefined; // a limiter created with options of its own: its key is the call site's
    }
  }

  bulkheadList() {
    return [...this.bulkheads.all()].map(([name, bulkhead]) => bulkheadView(name, bulkhead, this.history));
  }

  queueList() {
    return Promise.all([...this.deadLetters.all()].map(([name, queue]) => queueView(name, queue, this.history)));
  }

  private queue(name: string) {
    const queue = this.deadLetters.find(name);
    if (!queue) throw new AdminRequestError(404, `no dead-letter queue ${JSON.stringify(name)}`);
    return queue;
  }

  async letters(name: string, query: Record<string, unknown>) {
    const queue = this.queue(name);
    const cursor = typeof query.cursor === 'string' && query.cursor !== '' ? query.cursor : undefined;
    const options = {
      filter: this.checked(() => letterFilter(query)),
      limit: this.checked(() => pageLimit(query.limit)),
      cursor,
    };
    const page = await queue.list(options);
    return { queue: name, ...page };
  }

  async letter(name: string, id: string) {
    const letter = await this.queue(name).get(id);
    if (!letter) throw new AdminRequestError(404, `no letter ${JSON.stringify(id)} in queue ${JSON.stringify(name)}`);
    return letter;
  }

  /** Replays at a bounded rate and count; one replay per queue at a time. */
  async replay(name: string, body: Record<string, unknown>): Promise<ReplayReport> {
    this.queue(name);
    const { maxLimit, maxRatePerSecond } = this.admin.replay;
    const limit = body.limit ?? 100;
    const rate = body.ratePerSecond ?? 10;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      throw new AdminRequestError(400, `limit must be an integer from 1 to ${maxLimit}, got ${JSON.stringify(limit)}`);
    }
    if (typeof rate !== 'number' || !(rate > 0) || rate > maxRatePerSecond) {
      throw new AdminRequestError(
        400,
        `ratePerSecond must be a number over 0 and at most ${maxRatePerSecond}, got ${JSON.stringify(rate)}`,
      );
    }
    const { maxDurationSeconds } = this.admin.replay;
    if (limit / rate > maxDurationSeconds) {
      // A replay holds its queue (every other replay of it is 409): 1 letter at 0.0001/s held it 3 hours.
      throw new AdminRequestError(
        400,
        `a replay of ${limit} letters at ${rate} per second would take ${Math.ceil(limit / rate)} s, over admin.replay.maxDurationSeconds ${maxDurationSeconds}: raise the rate or lower the limit`,
      );
    }
    if (body.id !== undefined && typeof body.id !== 'string') throw new AdminRequestError(400, 'id must be a string');
    const filter = this.checked(() => letterFilter((body.filter ?? {}) as Record<string, unknown>));
    if (this.replaying.has(name))
      throw new AdminRequestError(409, `a replay of queue ${JSON.stringify(name)} is running`);
    this.replaying.add(name);
    try {
      return await this.deadLetters.replay(name, {
        id: body.id as string | undefined,
        limit,
        ratePerSecond: rate,
        filter,
        signal: this.shutdown.signal,
      });
    } finally {
      this.replaying.delete(name);
      void this.sample();
    }
  }

  /** Purges only when `confirm` repeats the queue's name. */
  async purge(name: string, confirm: unknown): Promise<{ queue: string; purged: number }> {
    const queue = this.queue(name);
    if (confirm !== name) {
      throw new AdminRequestError(400, `purging deletes every letter: repeat the queue's name as ?confirm=${name}`);
    }
    const purged = await queue.purge();
    void this.sample();
    return { queue: name, purged };
  }

  rolloutList() {
    return this.shares.services().map((service) => this.shares.describe(service));
  }

  setRollout(service: string, percent: unknown) {
    if (!this.shares.services().includes(service)) {
      throw new AdminRequestError(404, `service ${JSON.stringify(service)} has no rollout`);
    }
    if (percent === undefined)
      throw new AdminRequestError(400, 'percent is required: a number from 0 to 100, or null to clear');
    if (percent !== null && (typeof percent !== 'number' || !(percent >= 0 && percent <= 100))) {
      throw new AdminRequestError(
        400,
        `percent must be a number from 0 to 100, or null to clear, got ${JSON.stringify(percent)}`,
      );
    }
    this.shares.set(service, percent ?? undefined);
    return this.shares.describe(service);
  }

  /** The configuration as given and as each service resolves it, secrets redacted. */
  configuration() {
    const services: Record<string, unknown> = {};
    for (const name of this.settings.serviceNames()) services[name] = redact(this.settings.resolve(name));
    return {
      environment: this.settings.environment ?? null,
      defaultTier: this.settings.defaultTier,
      config: redact(this.settings.config),
      services,
    };
  }

  /**
   * The status for the event streams: one reading shared by every open page for 500 ms (each
   * reads every queue's size), and a fresh one after a breaker's transition.
   */
  streamStatus(): ReturnType<AdminConsole['status']> {
    const now = performance.now();
    if (!this.shared || now - this.shared.at > 500) this.shared = { at: now, status: this.status() };
    return this.shared.status;
  }

  /** Everything the page shows, in one answer. */
  async status() {
    return {
      at: this.clock.now(),
      since: this.history.since,
      times: this.history.times(),
      breakers: this.breakerList(),
      limiters: this.limiterList(),
      bulkheads: this.bulkheadList(),
      queues: await this.queueList(),
      rollouts: this.rolloutList(),
      chaos: { enabled: this.chaos.enabled, experiments: this.chaos.list() },
      config: await this.reloads.view(),
      patterns: this.tallies.list(),
    };
  }

  private checked<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof RangeError) throw new AdminRequestError(400, error.message);
      throw error;
    }
  }
}
