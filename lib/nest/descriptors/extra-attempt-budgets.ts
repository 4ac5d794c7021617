import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { ExtraAttemptBudget, type ExtraAttemptBudgetOptions } from '../../core/budget/extra-attempt-budget.js';
import type { Clock } from '../../core/clock.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { RedisBudgetStore } from '../../redis/budget-store.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK, RESILIENCE_REDIS } from '../tokens.js';

export type BudgetSettings = Omit<ExtraAttemptBudgetOptions, 'clock'> & {
  /** 'shared': one budget for the fleet, through Redis. Default 'local'. */
  scope?: 'local' | 'shared';
};

/** How often a shared budget tells the fleet its window and reads the others'. */
const SHARED_SYNC_MS = 1000;

/** A share of 10% more attempts, and 10 per second whatever the traffic: a hedge's budget when none is set. */
export const DEFAULT_BUDGET: BudgetSettings = { ratio: 0.1, minPerSecond: 10 };

function signature(settings: BudgetSettings): string {
  return `ratio ${settings.ratio}, minPerSecond ${settings.minPerSecond ?? 10}, windowSeconds ${settings.windowSeconds ?? 10}, scope ${settings.scope ?? 'local'}`;
}

/**
 * One budget of extra attempts per service, shared by its retries (a retry `budget` with a
 * `ratio`) and its hedges. The first declaration makes it; another that asks for different
 * numbers is an error naming both, never a second budget or an ignored setting.
 */
@Injectable()
export class ExtraAttemptBudgets implements OnApplicationShutdown {
  private budgets = new Map<string, { budget: ExtraAttemptBudget; signature: string; origin: string }>();
  /** Services whose budget was asked for since the last reload: their numbers are agreed. */
  private claimed = new Set<string>();

  private readonly replica = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Each shared budget's sync, by service (a reload that replaces a budget replaces its sync). */
  private readonly syncs = new Map<string, NodeJS.Timeout>();
  private readonly keyPrefix?: string;

  constructor(
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Optional() settings?: ResilienceSettings,
    @Optional() @Inject(RESILIENCE_REDIS) private readonly redis?: Redis | Cluster | null,
  ) {
    this.keyPrefix = settings?.config.redis?.keyPrefix;
    // A reload may change a service's numbers: a new round of agreement, before the policies ask again.
    settings?.participate({
      order: 5,
      apply: () => {
        const budgets = new Map(this.budgets);
        const claimed = this.claimed;
        this.claimed = new Set();
        return {
          changed: [],
          rollback: () => {
            this.budgets = budgets;
            this.claimed = claimed;
          },
        };
      },
    });
  }

  /** The budget of `service`; `settings` when it is made (default DEFAULT_BUDGET), `origin` names the asker in errors. */
  of(service: string, settings: BudgetSettings | undefined, origin: string): ExtraAttemptBudget {
    const existing = this.budgets.get(service);
    const agreed = this.claimed.has(service);
    this.claimed.add(service);
    // Not asked for since a reload: other numbers replace it (its count starts afresh).
    if (existing && !agreed && settings && signature(settings) !== existing.signature) this.budgets.delete(service);
    else if (existing) {
      if (settings && signature(settings) !== existing.signature) {
        throw new ResilienceConfigError([
          {
            path: `${origin} budget`,
            message: `is ${signature(settings)}, but service "${service}" shares one budget of ${existing.signature} (from ${existing.origin}): give both the same numbers`,
          },
        ]);
      }
      return existing.budget;
    }
    const own = settings ?? DEFAULT_BUDGET;
    const { scope, ...numbers } = own;
    if (scope === 'shared' && !this.redis)
      throw new ResilienceConfigError([
        {
          path: `${origin} budget.scope`,
          message: "is 'shared' but no redis is configured: configure redis, or use 'local'",
        },
      ]);
    const budget = new ExtraAttemptBudget({ ...numbers, clock: this.clock });
    this.budgets.set(service, { budget, signature: signature(own), origin });
    if (scope === 'shared') this.share(service, budget);
    return budget;
  }

  /**
   * Adds the fleet to `budget`: every second this replica writes its window to Redis and reads
   * the others' (RedisBudgetStore), so the ratio bounds the fleet's extra attempts together.
   * While Redis does not answer, the replica spends its own budget alone.
   */
  private share(service: string, budget: ExtraAttemptBudget): void {
    const store = new RedisBudgetStore(this.redis as Redis | Cluster, service, this.keyPrefix, SHARED_SYNC_MS * 5);
    const sync = () =>
      store.exchange(this.replica, budget.ownWindow()).then(
        ({ calls, extras }) => budget.setOthers(calls, extras),
        () => budget.setOthers(0, 0),
      );
    void sync();
    clearInterval(this.syncs.get(service));
    const timer = setInterval(() => void sync(), SHARED_SYNC_MS);
    timer.unref();
    this.syncs.set(service, timer);
  }

  onApplicationShutdown(): void {
    for (const timer of this.syncs.values()) clearInterval(timer);
    this.syncs.clear();
  }

  /** Every service's budget, for metrics and the console. */
  all(): ReadonlyMap<string, ExtraAttemptBudget> {
    return new Map([...this.budgets].map(([service, { budget }]) => [service, budget]));
  }
}
