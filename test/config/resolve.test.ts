import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { presets, ResilienceConfigError, ResilienceConfigResolver } from '../../lib/index.js';

describe('resolving a service configuration', () => {
  let savedNodeEnv: string | undefined;
  beforeEach(() => {
    savedNodeEnv = process.env.NODE_ENV;
    delete process.env.NODE_ENV;
  });
  afterEach(() => {
    if (savedNodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = savedNodeEnv;
  });

  it("gives each tier the guide's tier table", () => {
    const resolver = ResilienceConfigResolver.from({});
    for (const tier of ['critical', 'standard', 'non_critical'] as const) {
      const resolved = resolver.resolveTier(tier);
      const table = presets.tiers[tier];
      assert.equal(resolved.circuit.failureThreshold, table.circuit.failureThreshold);
      assert.equal(resolved.circuit.timeout, table.circuit.timeout);
      assert.equal(resolved.retry.maxAttempts, table.retry.maxAttempts);
      assert.equal(resolved.retry.baseDelay, table.retry.baseDelay);
      assert.deepEqual(
        { rate: resolved.rate.rate, per: resolved.rate.per, burst: resolved.rate.burst },
        { ...table.rate },
      );
      assert.equal(resolved.dlq.retentionDays, table.dlq.retentionDays);
      assert.equal(resolved.dlq.alertThreshold, table.dlq.alertThreshold);
    }
  });

  it('puts an unlisted service in the default tier, and defaultTier changes it', () => {
    assert.equal(ResilienceConfigResolver.from({}).resolve('anything').tier, 'standard');
    assert.equal(
      ResilienceConfigResolver.from({ defaultTier: 'critical' }).resolve('anything').circuit.failureThreshold,
      2,
    );
  });

  it('layers base < profile < defaults < tier < service < call site', () => {
    const resolver = ResilienceConfigResolver.from({
      environment: 'production',
      defaults: { circuit: { successThreshold: 4, halfOpenMaxCalls: 2 } },
      tiers: { critical: { circuit: { halfOpenMaxCalls: 3 } } },
      services: { payments: { tier: 'critical', circuit: { timeout: '4m' } } },
    });
    const resolved = resolver.resolve('payments');
    assert.equal(resolved.circuit.failureThreshold, 2, 'tier table');
    assert.equal(resolved.circuit.successThreshold, 4, 'defaults over the production profile (3)');
    assert.equal(resolved.circuit.halfOpenMaxCalls, 3, 'configured tier over defaults');
    assert.equal(resolved.circuit.timeout, 240, 'service over tier');
    assert.deepEqual(resolved.circuit.expectedExceptions, presets.circuit.production.expectedExceptions, 'profile');
    assert.equal(resolved.retry.maxDelay, 120, 'production retry profile');
    assert.equal(resolved.rate.strategy, 'sliding_window', 'production limiter profile');
    const called = resolver.resolve('payments', { circuit: { timeout: 10 }, tier: 'standard' });
    assert.equal(called.circuit.timeout, 10);
    assert.equal(called.circuit.failureThreshold, 5, 'call-site tier replaces the configured one');
  });

  it('chooses the profile from NODE_ENV when environment is not set', () => {
    process.env.NODE_ENV = 'development';
    const resolver = ResilienceConfigResolver.from({});
    assert.equal(resolver.environment, 'development');
    const resolved = resolver.resolve('x');
    assert.equal(resolved.retry.jitter, false, 'dev retry has no jitter');
    assert.equal(resolved.dlq.storageBackend, 'memory');
    process.env.NODE_ENV = 'test';
    assert.equal(ResilienceConfigResolver.from({}).environment, undefined, 'an unknown NODE_ENV picks no profile');
    assert.equal(ResilienceConfigResolver.from({ environment: 'staging' }).environment, 'staging');
  });

  it('expands a preset under the fields of its layer', () => {
    const resolver = ResilienceConfigResolver.from({
      services: { stripe: { tier: 'standard', rate: { preset: 'stripe', burst: 0 }, circuit: { preset: 'external' } } },
    });
    const resolved = resolver.resolve('stripe');
    assert.deepEqual([resolved.rate.rate, resolved.rate.per, resolved.rate.burst], [100, 1, 0]);
    assert.equal(resolved.circuit.timeout, 300);
    assert.equal(resolved.circuit.successThreshold, 3);
  });

  it('adds custom tiers and overrides the table per field', () => {
    const resolver = ResilienceConfigResolver.from({
      tiers: { batch: { retry: { maxAttempts: 8, baseDelay: '250ms' } }, critical: { circuit: { timeout: 240 } } },
      services: { nightly: { tier: 'batch' } },
    });
    assert.equal(resolver.resolve('nightly').retry.maxAttempts, 8);
    assert.equal(resolver.resolve('nightly').retry.baseDelay, 0.25);
    assert.equal(resolver.resolveTier('critical').circuit.timeout, 240);
    assert.equal(resolver.resolveTier('critical').circuit.failureThreshold, 2, 'rest of the table kept');
    assert.deepEqual(resolver.tierNames().sort(), ['batch', 'critical', 'non_critical', 'standard']);
  });

  it('resolves the rollout arm on top of the service', () => {
    const resolver = ResilienceConfigResolver.from({
      services: {
        payment_gateway: { tier: 'critical', rollout: { percent: 10, circuit: { failureThreshold: 5, timeout: 90 } } },
      },
    });
    const resolved = resolver.resolve('payment_gateway');
    assert.equal(resolved.circuit.failureThreshold, 2);
    assert.equal(resolved.rollout?.percent, 10);
    assert.equal(resolved.rollout?.circuit.failureThreshold, 5);
    assert.equal(resolved.rollout?.circuit.timeout, 90);
    assert.equal(resolved.rollout?.retry.maxAttempts, 5, 'tier values carried into the arm');
  });

  it('a progressive rollout: steps instead of percent (the first step), checked; its own fields stay out of the arm', () => {
    const resolver = ResilienceConfigResolver.from({
      services: {
        orders: {
          rollout: { steps: [5, 25, 100], interval: '1m', analysis: { minCalls: 100 }, retry: { maxAttempts: 4 } },
        },
      },
    });
    const resolved = resolver.resolve('orders');
    assert.equal(resolved.rollout?.percent, 5);
    assert.equal(resolved.rollout?.retry.maxAttempts, 4);
    const refused = (rollout: object) => {
      const result = ResilienceConfigResolver.validate({ services: { orders: { rollout } } });
      return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
    };
    assert.deepEqual(refused({ retry: { maxAttempts: 2 } }), [
      'services.orders.rollout.percent: is required (or steps, for a progressive rollout)',
    ]);
    assert.deepEqual(refused({ steps: [5, 5, 100] }), [
      'services.orders.rollout.steps[1]: must be above steps[0] (5): shares rise',
    ]);
    assert.deepEqual(refused({ percent: 10, steps: [5, 100] }), [
      'services.orders.rollout.percent: is 10 but steps start at 5: give one, or the same',
    ]);
    assert.deepEqual(refused({ percent: 10, interval: '1m' }), [
      'services.orders.rollout.interval: applies to a progressive rollout: give steps too',
    ]);
  });

  it('gives dead letters a queue per service, with deadLetter defaults and per-queue settings', () => {
    const resolver = ResilienceConfigResolver.from({
      deadLetter: {
        storageBackend: 'file',
        storageConfig: { filePath: './.data/dlq' },
        queues: { orders: { preset: 'orders', storageBackend: 'file' } },
      },
      services: { checkout: { dlq: { queue: 'orders' } } },
    });
    const users = resolver.resolve('users').dlq;
    assert.equal(users.queue, 'users');
    assert.equal(users.storageBackend, 'file');
    assert.equal(users.storageConfig.filePath, './.data/dlq');
    const checkout = resolver.resolve('checkout').dlq;
    assert.equal(checkout.queue, 'orders');
    assert.equal(checkout.maxRetryAttempts, 5, 'orders preset');
    assert.equal(checkout.retentionDays, 90);
    assert.equal(checkout.storageConfig.keyPrefix, 'order_dlq');
    assert.equal(checkout.storageConfig.filePath, './.data/dlq', 'nested storageConfig merges');
  });

  it('gives a rate set without a burst no inherited burst', () => {
    const resolver = ResilienceConfigResolver.from({
      services: { api: { rate: { rate: 5 } }, api2: { rate: { burst: 3 } } },
    });
    assert.deepEqual([resolver.resolve('api').rate.rate, resolver.resolve('api').rate.burst], [5, 0]);
    assert.deepEqual(
      [resolver.resolve('api2').rate.rate, resolver.resolve('api2').rate.burst],
      [1000, 3],
      'a burst alone refines the tier',
    );
  });

  it('resolves named limiters, then services, then presets by name', () => {
    const resolver = ResilienceConfigResolver.from({
      rateLimiters: { outbound: { preset: 'github' } },
      services: { stripe: { tier: 'critical' } },
    });
    assert.equal(resolver.resolveLimiter('outbound').rate, 5000);
    assert.equal(resolver.resolveLimiter('stripe').rate, 100, 'a configured service wins over the preset of that name');
    assert.equal(resolver.resolveLimiter('stripe').per, 60);
    assert.equal(resolver.resolveLimiter('twitter').per, 900);
    assert.equal(resolver.resolveLimiter('anything').rate, 1000, 'the default tier');
  });

  it('refuses an unknown tier at a call site', () => {
    const resolver = ResilienceConfigResolver.from({});
    assert.throws(() => resolver.resolve('x', { tier: 'gold' }), ResilienceConfigError);
  });

  it('never lets a caller mutate the cached or preset objects', () => {
    const resolver = ResilienceConfigResolver.from({ environment: 'production' });
    const resolved = resolver.resolve('x');
    resolved.circuit.expectedExceptions?.push('Oops');
    assert.equal(presets.circuit.production.expectedExceptions.length, 4);
  });
});
