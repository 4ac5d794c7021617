import { setMaxListeners } from 'node:events';
import { type BeforeApplicationShutdown, Inject, Injectable, Optional } from '@nestjs/common';
import { formatZodIssues } from '../../config/format-issues.js';
import { retryOptionsOf } from '../../config/policy-options.js';
import type { ResolvedRetrySettings } from '../../config/resolved-types.js';
import { retrySchema } from '../../config/schema.js';
import type { RetrySettings } from '../../config/types.js';
import type { Clock } from '../../core/clock.js';
import { ApplicationShutdownError, ResilienceConfigError } from '../../core/errors.js';
import { type RetryContext, type RetryEvent, RetryPolicy, type Sleep } from '../../core/retry/index.js';
import { ExtraAttemptBudgets } from '../descriptors/extra-attempt-budgets.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK, RESILIENCE_SLEEP } from '../timing.js';
import { NamedRegistry, optionsSignature } from './named-registry.js';

/** Kept here too: it was first exported from this module. */
export { ApplicationShutdownError } from '../../core/errors.js';

/** Options of RetryService and @Retry: retry settings plus the names they are resolved and reported under. */
export interface RetryCallOptions extends RetrySettings {
  /** The configured service whose tier and entry supply the settings (default: 'default', or the class for @Retry). */
  service?: string;
  /** The `operation` label of the retry metrics (default: the service, or Class.method for @Retry). */
  operation?: string;
  /** Replaces the service's configured tier. */
  tier?: string;
}

export interface RetryListener {
  /** A retry is about to run: its attempt number and the delay before it (seconds). */
  onRetry?(operation: string, event: RetryEvent): void;
  onComplete?(operation: string, attempts: number, succeeded: boolean): void;
}

/** Thrown into waiting retries when the application shuts down. */
/**
 * Retries with the settings of a service (its tier and entry) or of a preset, one
 * policy per operation (so a retry budget is shared by the calls of an operation).
 * Waiting retries are cancelled when the application shuts down.
 */
@Injectable()
export class RetryService implements BeforeApplicationShutdown {
  /** Keyed `operation \0 options signature`: other options make another policy, never an ignored one. */
  private readonly registry: NamedRegistry<RetryPolicy, RetryCallOptions, ResolvedRetrySettings>;
  private byOptions = new WeakMap<object, Map<string, RetryPolicy>>();
  private readonly presets = new Map<string, RetryCallOptions>();
  private readonly shutdown = new AbortController();

  constructor(
    settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) clock: Clock,
    @Inject(RESILIENCE_SLEEP) sleep: Sleep,
    @Optional() budgets: ExtraAttemptBudgets = new ExtraAttemptBudgets(clock),
  ) {
    const serviceOf = new WeakMap<object, string>();
    // Every waiting retry listens to this signal: many wait at once under load, and that
    // is not a leak (each listener goes with its wait).
    setMaxListeners(0, this.shutdown.signal);
    const abortWaits = this.shutdown.signal;
    this.registry = new NamedRegistry({
      kind: 'retry policy',
      origin: 'RetryService.policy',
      resolve: (key, options = {}) => {
        const operation = operationOf(key);
        const { service, operation: _label, tier, ...own } = options;
        const parsed = retrySchema.safeParse(own, { reportInput: true });
        if (!parsed.success) {
          throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, `retry "${operation}"`));
        }
        const resolved = settings.resolve(service ?? operation, { tier, retry: parsed.data }).retry;
        serviceOf.set(resolved, service ?? operation);
        return resolved;
      },
      create: (key, resolved) => {
        const options = retryOptionsOf(resolved);
        const budget = resolved.budget;
        // A share of the calls is the service's one budget, shared with its hedges.
        if (budget && 'ratio' in budget) {
          const service = serviceOf.get(resolved) ?? operationOf(key);
          options.budget = budgets.of(service, budget, `retry "${operationOf(key)}"`);
        }
        try {
          return new RetryPolicy({ ...options, abortWaits, clock, sleep });
        } catch (error) {
          if (!(error instanceof RangeError)) throw error;
          throw new ResilienceConfigError([{ path: `retry "${operationOf(key)}"`, message: error.message }]);
        }
      },
    });
    // A reload: policies are stateless (their budget is the service's); changed ones are replaced.
    settings.participate({
      order: 10,
      apply: () => {
        const step = this.registry.reloaded();
        const byOptions = this.byOptions;
        this.byOptions = new WeakMap();
        return {
          changed: step.changed,
          rollback: () => {
            step.rollback();
            this.byOptions = byOptions;
          },
        };
      },
    });
  }

  /**
   * Runs `fn` with retries. `options` is a preset name (`'network'`, `'api'`...) or
   * settings; the service's resolved settings are the base either way.
   */
  execute<T>(
    fn: (context: RetryContext) => T | PromiseLike<T>,
    options: RetryCallOptions | string = {},
    callOptions: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const normalized = typeof options === 'string' ? this.presetOptions(options) : options;
    return this.policy(normalized.operation ?? normalized.service ?? 'default', normalized).execute(fn, callOptions);
  }

  /**
   * The policy of `operation` with these options, created on first use. Other options under
   * the same operation get a policy of their own (a retry budget is per operation and
   * options): options are never ignored. Functions count by identity.
   */
  policy(operation: string, options: RetryCallOptions = {}): RetryPolicy {
    // The same options object as before (a call site passing its options on every call): one
    // lookup. Options are read when an object is first seen; change them with a new object.
    const seen = this.byOptions.get(options)?.get(operation);
    if (seen) return seen;
    const policy = this.registry.get(`${operation}\u0000${optionsSignature(options)}`, options);
    let byOperation = this.byOptions.get(options);
    if (!byOperation) {
      byOperation = new Map();
      this.byOptions.set(options, byOperation);
    }
    byOperation.set(operation, policy);
    return policy;
  }

  /** One options object per preset name, so `execute(fn, 'network')` hits the identity lookup. */
  private presetOptions(preset: string): RetryCallOptions {
    let options = this.presets.get(preset);
    if (!options) {
      options = { preset };
      this.presets.set(preset, options);
    }
    return options;
  }

  /**
   * Observes every policy, existing and future (metrics): each policy's own onRetry and
   * onComplete events, reported under its operation.
   */
  subscribe(listener: RetryListener): () => void {
    return this.registry.each((policy, key) => {
      const operation = operationOf(key);
      const offRetry = listener.onRetry ? policy.onRetry((event) => listener.onRetry?.(operation, event)) : undefined;
      const offComplete = listener.onComplete
        ? policy.onComplete(({ attempts, succeeded }) => listener.onComplete?.(operation, attempts, succeeded))
        : undefined;
      return () => {
        offRetry?.();
        offComplete?.();
      };
    });
  }

  /**
   * Before the HTTP server drains (Nest calls onApplicationShutdown after it has): a
   * request waiting in backoff would otherwise hold the server, and the process, open.
   */
  beforeApplicationShutdown(): void {
    this.shutdown.abort(new ApplicationShutdownError('The application is shutting down; retry cancelled'));
  }
}

const operationOf = (key: string): string => key.slice(0, key.indexOf('\u0000'));
