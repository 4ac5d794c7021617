import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResilienceConfigResolver, validateResilienceConfig } from '../../lib/index.js';

const messages = (issues: { message: string }[]) => issues.map((i) => i.message);

describe("the guide's pre-deployment checks", () => {
  it('pass for the guide tier table and every environment profile', () => {
    for (const environment of ['development', 'staging', 'production'] as const) {
      assert.deepEqual(validateResilienceConfig({ environment }), [], environment);
    }
  });

  it('flag failureThreshold < 2 and timeout < 30 s', () => {
    assert.deepEqual(messages(validateResilienceConfig({ circuit: { failureThreshold: 1, timeout: 29 } })), [
      'Circuit failure_threshold too low (<2)',
      'Circuit timeout too short (<30s)',
    ]);
    assert.deepEqual(validateResilienceConfig({ circuit: { failureThreshold: 2, timeout: 30 } }), []);
  });

  it('flag maxAttempts > 10', () => {
    assert.ok(
      messages(validateResilienceConfig({ retry: { maxAttempts: 11, baseDelay: 0.01 } })).includes(
        'Retry max_attempts too high (>10)',
      ),
    );
    assert.deepEqual(validateResilienceConfig({ retry: { maxAttempts: 10, baseDelay: 0.01 } }), []);
  });

  it('sum baseDelay * base^i over every attempt, uncapped, exactly as the guide does', () => {
    // 10 * (1 + 2 + 4 + 8 + 16) = 310 > 300 although maxDelay caps each wait at 60.
    assert.deepEqual(messages(validateResilienceConfig({ retry: { maxAttempts: 5, baseDelay: 10, maxDelay: 60 } })), [
      'Total retry delay too long (310s)',
    ]);
    // 10 * 30 = 300 is not above the limit (linear).
    assert.deepEqual(validateResilienceConfig({ retry: { maxAttempts: 30, baseDelay: 10, exponentialBase: 1 } }), [
      { path: '', message: 'Retry max_attempts too high (>10)' },
    ]);
  });

  it('flag burst > rate and retention < 1 day', () => {
    assert.deepEqual(
      messages(validateResilienceConfig({ rateLimiter: { rate: 10, burst: 11 }, dlq: { retentionDays: 0.5 } })),
      ['Rate limiter burst exceeds rate', 'DLQ retention too short (<1 day)'],
    );
  });

  it('check every tier, service and rollout arm with its path', () => {
    const issues = validateResilienceConfig({
      tiers: { fragile: { circuit: { failureThreshold: 1 } } },
      services: {
        search: { tier: 'standard', circuit: { timeout: 10 } },
        payments: { tier: 'critical', rollout: { percent: 5, dlq: { retentionDays: 0.1 } } },
      },
      rateLimiters: { burst_heavy: { rate: 5, burst: 50 } },
    });
    assert.deepEqual(
      issues.map((i) => `${i.path}: ${i.message}`),
      [
        'tiers.fragile: Circuit failure_threshold too low (<2)',
        'services.search: Circuit timeout too short (<30s)',
        'services.payments.rollout: DLQ retention too short (<1 day)',
        'rateLimiters.burst_heavy: Rate limiter burst exceeds rate',
      ],
    );
  });

  it('return schema errors too, instead of throwing', () => {
    assert.deepEqual(
      validateResilienceConfig({ defaults: { circuit: { failureThreshold: 0 } } } as never).map((i) => i.path),
      ['defaults.circuit.failureThreshold'],
    );
  });

  it('resolver still builds a config that only has warnings', () => {
    const resolver = ResilienceConfigResolver.from({ services: { x: { circuit: { timeout: 5 } } } });
    assert.equal(resolver.resolve('x').circuit.timeout, 5);
  });
});
