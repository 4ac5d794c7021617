import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseResilienceConfig,
  ResilienceConfigError,
  ResilienceConfigResolver,
  ResilienceSettings,
} from '../../lib/index.js';
import { BAD } from '../support/bad-configs.js';

describe('bad configurations', () => {
  it(`covers at least 25 cases (${BAD.length})`, () => assert.ok(BAD.length >= 25));

  for (const [what, config, fragments] of BAD) {
    it(`reports ${what}, and the app refuses it at boot`, () => {
      // What `nest-resilience check` runs, and what the module runs at boot: the same validation.
      const result = ResilienceConfigResolver.validate(config);
      assert.equal(result.ok, false, 'accepted a bad configuration');
      assert.throws(() => ResilienceSettings.create(config, { warn: () => undefined }), ResilienceConfigError);
      const lines = result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
      for (const fragment of fragments) {
        assert.ok(
          lines.some((line) => line.includes(fragment)),
          `expected "${fragment}" among:\n${lines.join('\n')}`,
        );
      }
    });
  }

  it('lists every problem of one configuration in ONE error', () => {
    const config = {
      environment: 'prod',
      tiers: {
        critical: { circuit: { failureThreshold: 0, failureTreshold: 2 }, retry: { baseDelay: 5, maxDelay: 1 } },
      },
      services: { payments: { tier: 'platinum' } },
      deadLetter: { storageBackend: 'kafka' },
    };
    const error = (() => {
      try {
        ResilienceConfigResolver.from(config);
      } catch (e) {
        return e;
      }
      assert.fail('no error thrown');
    })();
    assert.ok(error instanceof ResilienceConfigError);
    const paths = error.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, [
      'deadLetter.storageBackend',
      'environment',
      'services.payments.tier',
      'tiers.critical.circuit.failureThreshold',
      'tiers.critical.circuit.failureTreshold',
      'tiers.critical.retry.maxDelay',
    ]);
    assert.match(error.message, /6 problems/);
    assert.match(error.message, /tiers\.critical\.circuit\.failureThreshold: must be >= 1, got 0/);
  });

  it('accepts every documented duration form', () => {
    const result = parseResilienceConfig({
      defaults: { circuit: { timeout: '250ms' }, retry: { baseDelay: '90s', maxDelay: '5m' } },
      deadLetter: { storageConfig: { backupInterval: '1h' } },
      tiers: { slow: { circuit: { timeout: '7d' } } },
    });
    assert.ok(result.ok);
    assert.equal(result.config.defaults?.circuit?.timeout, 0.25);
    assert.equal(result.config.defaults?.retry?.baseDelay, 90);
    assert.equal(result.config.defaults?.retry?.maxDelay, 300);
    assert.equal(result.config.deadLetter?.storageConfig?.backupInterval, 3600);
    assert.equal(result.config.tiers?.slow?.circuit?.timeout, 7 * 86400);
  });

  it('accepts error classes and predicates where YAML would give names', () => {
    class PaymentDeclined extends Error {}
    const result = parseResilienceConfig({
      defaults: {
        circuit: { expectedExceptions: [TypeError, 'ECONNREFUSED', (e: unknown) => e instanceof PaymentDeclined] },
      },
    });
    assert.ok(result.ok);
  });
});
