import { setMaxListeners } from 'node:events';
import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { formatZodIssues } from '../../config/format-issues.js';
import { retrySchema } from '../../config/schema.js';
import type { RetrySettings } from '../../config/types.js';
import type { Clock } from '../../core/clock.js';
import { ResilienceConfigError, ResilienceError } from '../../core/errors.js';
import { type RetryContext, RetryPolicy, type Sleep } from '../../core/retry/index.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK, RESILIENCE_SLEEP } from '../timing.js';
import { optionsSignature } from './named-registry.js';

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
  onRetry?(operation: string): void;
  onComplete?(operation: string, attempts: number, succeeded: boolean): void;
}

/** Thrown into waiting retries when the application shuts down. */
export class ApplicationShutdownError extends ResilienceError {
  constructor() {
    super('The application is shutting down; retry cancelled');
  }
}

/**
 * Retries with the settings of a service (its tier and entry) or of a preset, one
 * policy per operation (so a retry budget is shared by the calls of an operation).
 * Waiting retries are cancelled when the application shuts down.
 */
@Injectable()
export class RetryService implements BeforeApplicationShutdown {
  private readonly policies = new Map<string, RetryPolicy>();
  private readonly byOptions = new WeakMap<object, Map<string, RetryPolicy>>();
  private readonly presets = new Map<string, RetryCallOptions>();
  private readonly listeners: RetryListener[] = [];
  private readonly shutdown = new AbortController();

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Inject(RESILIENCE_SLEEP) private readonly sleep: Sleep,
  ) {
    // Every waiting retry listens to this signal: many wait at once under load, and that
    // is not a leak (each listener goes with its wait).
    setMaxListeners(0, this.shutdown.signal);
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
    const key = `${operation}\u0000${optionsSignature(options)}`;
    let policy = this.policies.get(key);
    if (!policy) {
      policy = this.create(operation, options);
      this.policies.set(key, policy);
    }
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

  subscribe(listener: RetryListener): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  /**
   * Before the HTTP server drains (Nest calls onApplicationShutdown after it has): a
   * request waiting in backoff would otherwise hold the server, and the process, open.
   */
  beforeApplicationShutdown(): void {
    this.shutdown.abort(new ApplicationShutdownError());
  }

  private create(operation: string, options: RetryCallOptions): RetryPolicy {
    const { service, operation: _label, tier, ...settings } = options;
    const parsed = retrySchema.safeParse(settings, { reportInput: true });
    if (!parsed.success) {
      throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, `retry "${operation}"`));
    }
    const resolved = this.settings.resolve(service ?? operation, { tier, retry: parsed.data as RetrySettings }).retry;
    const listeners = this.listeners;
    const userOnRetry = resolved.onRetry;
    const { enabled, ...policyOptions } = resolved;
    return new RetryPolicy({
      ...policyOptions,
      maxAttempts: enabled ? resolved.maxAttempts : 1,
      abortWaits: this.shutdown.signal,
      clock: this.clock,
      sleep: this.sleep,
      onRetry: (event) => {
        userOnRetry?.(event);
        for (const l of listeners) l.onRetry?.(operation);
      },
      // Read per call, so a listener subscribed after this policy exists still hears it.
      onComplete: (attempts, succeeded) => {
        for (const l of listeners) l.onComplete?.(operation, attempts, succeeded);
      },
    });
  }
}
