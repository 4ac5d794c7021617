import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { parse } from 'yaml';
import {
  ResilienceConfigError,
  ResilienceModule,
  ResilienceSettings,
  validateResilienceConfig,
} from '../../lib/index.js';

function errorOf(raw: unknown): ResilienceConfigError {
  try {
    ResilienceSettings.create(raw, { warn: () => undefined });
  } catch (error) {
    if (error instanceof ResilienceConfigError) return error;
    throw error;
  }
  assert.fail('the configuration was accepted');
}

describe('settings that would silently mean the wrong thing', () => {
  it('a misspelt tier name is reported, naming the tier it meant', () => {
    const issues = validateResilienceConfig({ tiers: { critcal: { circuit: { failureThreshold: 1 } } } });
    const issue = issues.find((i) => i.path === 'tiers.critcal');
    assert.ok(issue, JSON.stringify(issues));
    assert.match(issue.message, /did you mean "critical"/);
    assert.throws(
      () => ResilienceSettings.create({ strict: true, tiers: { critcal: {} } }, { warn: () => undefined }),
      /tiers\.critcal/,
    );
    // A new tier that is used, or not near a built-in name, is fine.
    assert.equal(validateResilienceConfig({ tiers: { gold: {} } }).filter((i) => i.path === 'tiers.gold').length, 0);
  });

  it('services.__proto__ (as YAML or JSON produce it) is refused, not dropped', () => {
    const raw = parse('services:\n  __proto__: { tier: critical }\n  payments: { tier: critical }\n');
    assert.ok(Object.hasOwn(raw.services, '__proto__'));
    assert.match(errorOf(raw).message, /services\.__proto__.*reserved name/s);
  });

  it('a rate that holds less than one call is an error that says how to write it', () => {
    const error = errorOf({ defaults: { rate: { rate: 0.5, per: 1 } } });
    assert.match(error.message, /defaults\.rate\.rate.*every call would be denied.*rate: 1, per: 2/s);
    assert.doesNotThrow(() =>
      ResilienceSettings.create({ defaults: { rate: { rate: 0.5, burst: 1 } } }, { warn: () => undefined }),
    );
  });

  it('redis with no way to connect (url, host, cluster, sentinels, client) is an error', () => {
    assert.match(
      errorOf({ redis: { keyPrefix: 'app' } }).message,
      /redis: has no connection \(url, host, cluster, sentinels or client\)/,
    );
  });

  it("deadLetter.alertThreshold wins over the tier table's dlq defaults; services.<name>.dlq wins over it", () => {
    const settings = ResilienceSettings.create(
      { deadLetter: { alertThreshold: 5000 }, services: { pay: { tier: 'critical', dlq: { alertThreshold: 7 } } } },
      { warn: () => undefined },
    );
    assert.equal(settings.resolve('orders').dlq.alertThreshold, 5000);
    assert.equal(settings.resolve('any', { tier: 'critical' }).dlq.alertThreshold, 5000);
    assert.equal(settings.resolve('pay').dlq.alertThreshold, 7);
  });

  it('a misspelt top-level key in ConfigService is named at boot instead of booting silently on defaults', async () => {
    const warnings: string[] = [];
    const logged = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [() => ({ resillience: { environment: 'production' } })],
        }),
        ResilienceModule.forRoot(),
      ],
    })
      .setLogger({ log: () => {}, error: () => {}, warn: (m: unknown) => warnings.push(String(m)) })
      .compile();
    assert.ok(
      warnings.some((w) => /no "resilience" key but has "resillience"/.test(w)),
      warnings.join('\n'),
    );
    await logged.close();
  });
});
