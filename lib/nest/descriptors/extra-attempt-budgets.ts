import { Inject, Injectable, Optional } from '@nestjs/common';
import { ExtraAttemptBudget, type ExtraAttemptBudgetOptions } from '../../core/budget/extra-attempt-budget.js';
import type { Clock } from '../../core/clock.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK } from '../tokens.js';

export type BudgetSettings = Omit<ExtraAttemptBudgetOptions, 'clock'>;

/** A share of 10% more attempts, and 10 per second whatever the traffic: a hedge's budget when none is set. */
export const DEFAULT_BUDGET: BudgetSettings = { ratio: 0.1, minPerSecond: 10 };

function signature(settings: BudgetSettings): string {
  return `ratio ${settings.ratio}, minPerSecond ${settings.minPerSecond ?? 10}, windowSeconds ${settings.windowSeconds ?? 10}`;
}

/**
 * One budget of extra attempts per service, shared by its retries (a retry `budget` with a
 * `ratio`) and its hedges. The first declaration makes it; another that asks for different
 * numbers is an error naming both, never a second budget or an ignored setting.
 */
@Injectable()
export class ExtraAttemptBudgets {
  private budgets = new Map<string, { budget: ExtraAttemptBudget; signature: string; origin: string }>();
  /** Services whose budget was asked for since the last reload: their numbers are agreed. */
  private claimed = new Set<string>();

  constructor(
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Optional() settings?: ResilienceSettings,
  ) {
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
    const budget = new ExtraAttemptBudget({ ...own, clock: this.clock });
    this.budgets.set(service, { budget, signature: signature(own), origin });
    return budget;
  }

  /** Every service's budget, for metrics and the console. */
  all(): ReadonlyMap<string, ExtraAttemptBudget> {
    return new Map([...this.budgets].map(([service, { budget }]) => [service, budget]));
  }
}
