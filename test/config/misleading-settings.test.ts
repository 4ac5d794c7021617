import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  for (const near of ['resillience', 'resilence', 'Resilience']) {
    it(`a misspelt top-level key in the YAML ConfigService reads (${near}:) fails the boot with a "did you mean"`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nest-resilience-yaml-'));
      const file = join(dir, 'config.yaml');
      writeFileSync(
        file,
        `server:\n  port: 3000\n${near}:\n  environment: production\n  services:\n    payments: { tier: critical }\n`,
      );
      try {
        await assert.rejects(
          Test.createTestingModule({
            imports: [
              ConfigModule.forRoot({
                isGlobal: true,
                ignoreEnvFile: true,
                load: [() => parse(readFileSync(file, 'utf8')) as Record<string, unknown>],
              }),
              ResilienceModule.forRoot(),
            ],
          })
            .setLogger({ log: () => {}, error: () => {}, warn: () => {} })
            .compile(),
          (error: Error) =>
            error instanceof ResilienceConfigError &&
            error.message.includes(
              `${near}: ConfigService has no "resilience" key but has "${near}": did you mean "resilience"?`,
            ),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('an unknown top-level key under resilience is refused with its path (strict or not)', () => {
    for (const strict of [false, true]) {
      assert.throws(
        () => ResilienceSettings.create({ strict, enviroment: 'production' } as never, { warn: () => undefined }),
        /enviroment: unknown key \(did you mean "environment"\?\)/,
      );
    }
  });
});
