import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, Logger, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { parse } from 'yaml';
import { type ResilienceConfig, ResilienceConfigError, ResilienceModule, ResilienceSettings } from '../../lib/index.js';

async function settingsOf(imports: unknown[]): Promise<ResilienceSettings> {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[] }).compile();
  const settings = moduleRef.get(ResilienceSettings);
  await moduleRef.close();
  return settings;
}

const YAML = `
resilience:
  environment: production
  defaultTier: standard
  tiers:
    critical: { circuit: { failureThreshold: 2, timeout: 180 }, retry: { maxAttempts: 5, baseDelay: 2 } }
  services:
    payment_gateway: { tier: critical, rollout: { percent: 10, circuit: { failureThreshold: 5, timeout: 90 } } }
  redis: { url: redis://127.0.0.1:6379, keyPrefix: myapp }
  deadLetter: { storageBackend: file, storageConfig: { filePath: ./.data/dlq } }
`;

describe('ResilienceModule', () => {
  it('forRoot(options) uses the options', async () => {
    const settings = await settingsOf([ResilienceModule.forRoot({ services: { users: { tier: 'non_critical' } } })]);
    assert.equal(settings.resolve('users').circuit.failureThreshold, 10);
  });

  it("forRoot() reads the DESIGN's YAML from ConfigService", async () => {
    const settings = await settingsOf([
      ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => parse(YAML)] }),
      ResilienceModule.forRoot(),
    ]);
    const payments = settings.resolve('payment_gateway');
    assert.equal(settings.environment, 'production');
    assert.equal(payments.tier, 'critical');
    assert.equal(payments.circuit.failureThreshold, 2);
    assert.equal(payments.circuit.successThreshold, 3, 'production profile');
    assert.equal(payments.rollout?.circuit.timeout, 90);
    assert.equal(payments.dlq.storageBackend, 'file');
    assert.equal(settings.config.redis?.keyPrefix, 'myapp');
  });

  it('forRoot({ configKey }) reads another key', async () => {
    const settings = await settingsOf([
      ConfigModule.forRoot({
        isGlobal: true,
        ignoreEnvFile: true,
        load: [() => ({ app: { resilience: { defaultTier: 'critical' } } })],
      }),
      ResilienceModule.forRoot({ configKey: 'app.resilience' }),
    ]);
    assert.equal(settings.defaultTier, 'critical');
  });

  it('forRoot() without ConfigModule runs on defaults', async () => {
    const settings = await settingsOf([ResilienceModule.forRoot()]);
    assert.equal(settings.resolve('x').tier, 'standard');
  });

  it('forRootAsync({ useFactory, inject }) with ConfigService', async () => {
    const settings = await settingsOf([
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ limits: { tier: 'critical' } })] }),
      ResilienceModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService): ResilienceConfig => ({ defaultTier: config.get('limits.tier') }),
      }),
    ]);
    assert.equal(settings.resolve('x').circuit.timeout, 180);
  });

  it('forRootAsync({ useClass }) and ({ useExisting })', async () => {
    @Injectable()
    class ResilienceOptionsFactory {
      create(): ResilienceConfig {
        return { defaultTier: 'non_critical' };
      }
    }
    @Module({ providers: [ResilienceOptionsFactory], exports: [ResilienceOptionsFactory] })
    class OptionsModule {}

    const byClass = await settingsOf([ResilienceModule.forRootAsync({ useClass: ResilienceOptionsFactory })]);
    assert.equal(byClass.defaultTier, 'non_critical');
    const byExisting = await settingsOf([
      ResilienceModule.forRootAsync({ imports: [OptionsModule], useExisting: ResilienceOptionsFactory }),
    ]);
    assert.equal(byExisting.defaultTier, 'non_critical');
  });

  it('isGlobal makes the settings injectable in every module', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly settings: ResilienceSettings) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ isGlobal: true, defaultTier: 'critical' }), FeatureModule],
    }).compile();
    assert.equal(moduleRef.get(Consumer).settings.defaultTier, 'critical');
    await moduleRef.close();
  });

  it('stops bootstrap with one error listing every problem', async () => {
    await assert.rejects(
      settingsOf([
        ResilienceModule.forRoot({
          tiers: { critical: { circuit: { failureThreshold: 0 } } },
          services: { pay: { tier: 'gold' } },
        } as never),
      ]),
      (error: unknown) => {
        assert.ok(error instanceof ResilienceConfigError);
        assert.deepEqual(error.issues.map((i) => i.path).sort(), [
          'services.pay.tier',
          'tiers.critical.circuit.failureThreshold',
        ]);
        return true;
      },
    );
  });

  it('logs pre-deployment warnings, and fails on them in strict mode', async () => {
    const warnings: string[] = [];
    const original = Logger.prototype.warn;
    Logger.prototype.warn = (message: unknown) => {
      warnings.push(String(message));
    };
    try {
      await settingsOf([ResilienceModule.forRoot({ services: { chatty: { circuit: { timeout: 5 } } } })]);
    } finally {
      Logger.prototype.warn = original;
    }
    assert.deepEqual(warnings, ['pre-deployment check: services.chatty: Circuit timeout too short (<30s)']);
    await assert.rejects(
      settingsOf([ResilienceModule.forRoot({ strict: true, services: { chatty: { circuit: { timeout: 5 } } } })]),
      /pre-deployment checks failed \(strict mode\)[\s\S]*services\.chatty: Circuit timeout too short \(<30s\)/,
    );
  });
});
