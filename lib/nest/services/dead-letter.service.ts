import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { formatZodIssues } from '../../config/format-issues.js';
import type { ResolvedDlqSettings } from '../../config/resolved-types.js';
import { dlqSchema } from '../../config/schema.js';
import type { DlqSettings } from '../../config/types.js';
import type { Clock } from '../../core/clock.js';
import { DeadLetterQueue } from '../../core/dead-letter/dead-letter-queue.js';
import type { ReplayOptions, ReplayReport } from '../../core/dead-letter/replay.js';
import { deserializeValue } from '../../core/dead-letter/serialize.js';
import { SpooledDeadLetterBackend } from '../../core/dead-letter/spooled-backend.js';
import type { DeadLetterRecord } from '../../core/dead-letter/types.js';
import { ResilienceConfigError, UnknownDeadLetterQueueError } from '../../core/errors.js';

export { UnknownDeadLetterQueueError } from '../../core/errors.js';

import type { DeadLetterBackendFactory } from '../module-options.js';
import { RESILIENCE_REDIS } from '../redis/redis.provider.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { lettersClock, RESILIENCE_CLOCK } from '../timing.js';
import { RESILIENCE_DLQ_BACKEND } from '../tokens.js';
import { backendFor, checkQueueName, codecFor } from './dead-letter-backends.js';
import { NamedRegistry } from './named-registry.js';

/** Replays a letter by calling its method again with its arguments. */
export type DeadLetterHandler = (args: unknown[], letter: DeadLetterRecord) => unknown;

export interface DeadLetterListener {
  onAdded?(queue: string, letter: DeadLetterRecord): void;
  onReplayed?(queue: string, succeeded: boolean): void;
  onAlert?(queue: string, size: number, threshold: number): void;
  onDamaged?(queue: string): void;
  /** Letters moved from a queue's local spool into its store, a round at a time. */
  onSpoolDrained?(queue: string, count: number): void;
}

/** How often retention runs (and once at start-up). */
const RETENTION_EVERY_MS = 60 * 60 * 1000;

/**
 * The application's dead-letter queues, one per name, each on the backend its settings
 * name (memory, file, Redis or SQS). Removes letters past retention every hour, alerts
 * at the threshold, and replays letters through the methods that @DeadLetter registered.
 */
@Injectable()
export class DeadLetterService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Resilience');
  private readonly registry: NamedRegistry<DeadLetterQueue, DlqSettings, ResolvedDlqSettings>;
  private readonly handlers = new Map<string, DeadLetterHandler>();
  private retentionTimer?: NodeJS.Timeout;
  private booted = false;

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Optional() @Inject(RESILIENCE_REDIS) private readonly redis?: Redis | Cluster | null,
    @Optional() @Inject(RESILIENCE_DLQ_BACKEND) private readonly ownBackend?: DeadLetterBackendFactory | null,
  ) {
    this.registry = new NamedRegistry({
      kind: 'dead-letter queue',
      origin: 'DeadLetterService.declare',
      resolve: (name, options, tier) => {
        checkQueueName(name);
        const parsed = dlqSchema.safeParse(options ?? {}, { reportInput: true });
        if (!parsed.success)
          throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, `dead-letter queue "${name}"`));
        return settings.resolve(name, { tier, dlq: { ...parsed.data, queue: name } }).dlq;
      },
      // `rethrow` belongs to each caller's stage, not to the queue.
      identity: ({ rethrow: _perCaller, ...queueSettings }) => queueSettings,
      create: (name, resolved) => this.create(name, resolved),
    });
    // A reload cannot move a queue's letters to other storage: a queue's settings change with a restart.
    settings.participate({
      order: 10,
      apply: () => {
        const changed = this.registry.changes();
        if (changed.length > 0)
          throw new ResilienceConfigError(
            changed.map(([name]) => ({
              path: `dead-letter queue "${name}"`,
              message:
                'its settings change only with a restart (its letters stay where they are): keep them as they are',
            })),
          );
        return { changed: [], rollback: () => undefined };
      },
    });
  }

  /**
   * The queue `name`. Its settings are those of the service of the same name (tier +
   * entry), with `deadLetter.queues.<name>` and `options` on top. After bootstrap, only a
   * queue that exists, is configured (deadLetter.queues, services) or is allowed by
   * `deadLetter.allowDynamicQueues` is created: a name from a request cannot make queues,
   * files or metric series. `find` looks a queue up without creating it.
   */
  queue(name: string, options?: DlqSettings, tier?: string): DeadLetterQueue {
    const existing = this.registry.find(name);
    if (existing) return existing;
    checkQueueName(name);
    const config = this.settings.config;
    const configured =
      Object.hasOwn(config.deadLetter?.queues ?? {}, name) || Object.hasOwn(config.services ?? {}, name);
    if (this.booted && !configured && config.deadLetter?.allowDynamicQueues !== true) {
      throw new UnknownDeadLetterQueueError(name);
    }
    return this.declare(name, options, tier, 'DeadLetterService.queue');
  }

  /** An existing (or configured) queue, or undefined: never creates one for an unknown name. */
  find(name: string): DeadLetterQueue | undefined {
    try {
      return this.queue(name);
    } catch (error) {
      if (error instanceof UnknownDeadLetterQueueError || error instanceof ResilienceConfigError) return undefined;
      throw error;
    }
  }

  /**
   * Creates a queue that code declares (decorators, ResilienceService.call): never a name
   * from input. A name declared again with other effective queue settings (retention,
   * threshold, storage...) is an error naming both places (`origin` is this caller's);
   * `rethrow` belongs to each caller's stage, not to the queue.
   */
  declare(name: string, options?: DlqSettings, tier?: string, origin?: string): DeadLetterQueue {
    return this.registry.get(name, options, tier, origin);
  }

  private create(name: string, resolved: ResolvedDlqSettings): DeadLetterQueue {
    const codec = codecFor(name, resolved);
    const backend =
      this.ownBackend?.(name, resolved) ??
      backendFor(name, resolved, codec, {
        redis: this.redis,
        redisKeyPrefix: this.settings.config.redis?.keyPrefix,
        warn: (message) => this.logger.warn(message),
      });
    const queue = new DeadLetterQueue({
      name,
      backend,
      maxRetryAttempts: resolved.maxRetryAttempts,
      retentionDays: resolved.retentionDays,
      alertThreshold: resolved.alertThreshold,
      maxMessageSize: resolved.storageConfig.maxMessageSize,
      truncateOversized: resolved.storageConfig.truncate,
      codec,
      clock: lettersClock(this.clock),
    });
    queue.onAlert(({ size, threshold }) =>
      this.logger.warn(`dead-letter queue "${name}" holds ${size} letters (alert threshold ${threshold})`),
    );
    queue.onDamaged(({ id, reason }) =>
      this.logger.warn(
        `dead-letter queue "${name}": letter ${id ?? '(unknown id)'} cannot be read and is skipped: ${reason}`,
      ),
    );
    queue.onRecovered(({ size, threshold }) =>
      this.logger.log(`dead-letter queue "${name}" is back under its alert threshold (${size} < ${threshold})`),
    );
    return queue;
  }

  all(): ReadonlyMap<string, DeadLetterQueue> {
    return this.registry.all();
  }

  /** Registers the method that replays letters from `source` (done by @DeadLetter at bootstrap). */
  registerHandler(queue: string, source: string, handler: DeadLetterHandler): void {
    this.handlers.set(`${queue}\u0000${source}`, handler);
  }

  /**
   * Replays letters of `queue` through their registered methods (one by id, by filter,
   * or all), at a bounded rate. A letter whose method is unknown fails its replay.
   */
  replay(queue: string, options: ReplayOptions = {}): Promise<ReplayReport> {
    const target = this.find(queue);
    if (!target) return Promise.reject(new UnknownDeadLetterQueueError(queue));
    return target.replay((letter) => {
      const source = `${letter.source.className}.${letter.source.method}`;
      const handler = this.handlers.get(`${queue}\u0000${source}`);
      if (!handler) throw new Error(`no @DeadLetter method registered for ${source} on queue "${queue}"`);
      // Its arguments are incomplete: running the method on markers would do something else.
      if (letter.truncated) {
        throw new Error(
          `letter ${letter.id} was kept without all of its arguments (${letter.truncated.reason}): replay it by hand`,
        );
      }
      return handler(deserializeValue(letter.args) as unknown[], letter);
    }, options);
  }

  /**
   * Observes every queue, existing and future (metrics): each queue's own typed events
   * (onAdded, onReplayed, onAlert, onDamaged, onSpoolDrained), subscribed through one call.
   */
  subscribe(listener: DeadLetterListener): () => void {
    return this.registry.each((queue, name) => {
      const offs = [
        listener.onAdded && queue.onAdded((letter) => listener.onAdded?.(name, letter)),
        listener.onReplayed && queue.onReplayed(({ succeeded }) => listener.onReplayed?.(name, succeeded)),
        listener.onAlert && queue.onAlert(({ size, threshold }) => listener.onAlert?.(name, size, threshold)),
        listener.onDamaged && queue.onDamaged(() => listener.onDamaged?.(name)),
        listener.onSpoolDrained && queue.backend instanceof SpooledDeadLetterBackend
          ? queue.backend.onDrained(({ count }) => listener.onSpoolDrained?.(name, count))
          : undefined,
      ];
      return () => {
        for (const off of offs) off?.();
      };
    });
  }

  /** Told of every queue created from now on. */
  get onCreated() {
    return this.registry.onCreated;
  }

  onModuleInit(): void {
    this.retentionTimer = setInterval(() => void this.applyRetention(), RETENTION_EVERY_MS);
    this.retentionTimer.unref();
  }

  /** Once at start-up, when the decorated methods have created their queues. */
  onApplicationBootstrap(): void {
    this.booted = true;
    void this.applyRetention();
  }

  /** Removes letters past retention in every queue. */
  async applyRetention(): Promise<number> {
    let removed = 0;
    for (const queue of this.registry.all().values()) {
      try {
        removed += await queue.applyRetention();
      } catch (error) {
        this.logger.warn(`retention of dead-letter queue "${queue.name}" failed: ${(error as Error).message}`);
      }
    }
    return removed;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await Promise.all([...this.registry.all().values()].map((q) => q.close()));
  }
}
