import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { register } from 'prom-client';
import {
  CircuitBreakerService,
  CircuitOpenError,
  ManualClock,
  RESILIENCE_CLOCK,
  ResilienceModule,
  ResilienceSettings,
  Resilient,
} from '../../lib/index.js';

const dependency = { down: false, attempts: 0, hold: undefined as Promise<void> | undefined };

@Injectable()
class Inventory {
  @Resilient('inventory')
  async check(): Promise<string> {
    dependency.attempts++;
    if (dependency.hold) await dependency.hold;
    if (dependency.down) throw Object.assign(new Error('inventory refused'), { code: 'ECONNREFUSED' });
    return 'in stock';
  }
}

/** The configuration at bootstrap; each test reloads a variation of it. */
const base = (over: { retry?: object; circuit?: object; metrics?: object; dlq?: object } = {}) => ({
  services: {
    inventory: {
      retry: { maxAttempts: 1, baseDelay: 0.001, jitter: false, ...over.retry },
      circuit: { failureThreshold: 2, timeout: 30, ...over.circuit },
      rate: { enabled: false },
      dlq: { storageBackend: 'memory' as const, rethrow: true, ...over.dlq },
    },
  },
  ...(over.metrics ? { metrics: over.metrics } : {}),
});

@Module({ imports: [ResilienceModule.forRoot(base())], providers: [Inventory] })
class InventoryModule {}

describe('reloading the configuration (in-process, on a manual clock)', () => {
  let moduleRef: TestingModule;
  let settings: ResilienceSettings;
  let inventory: Inventory;
  const clock = new ManualClock(1_000_000);
  const attemptsOf = async () => {
    dependency.attempts = 0;
    await inventory.check().catch(() => undefined);
    return dependency.attempts;
  };

  before(async () => {
    moduleRef = await Test.createTestingModule({ imports: [InventoryModule] })
      .overrideProvider(RESILIENCE_CLOCK)
      .useValue(clock)
      .compile();
    await moduleRef.init();
    settings = moduleRef.get(ResilienceSettings);
    inventory = moduleRef.get(Inventory);
  });
  after(() => moduleRef.close());

  it('an invalid reload changes nothing and names every problem with its path', async () => {
    dependency.down = true;
    const result = settings.reload({
      services: { inventory: { retry: { maxAttempts: 0 }, circuit: { failureTreshold: 3 } } },
    });
    assert.equal(result.result, 'invalid');
    assert.equal(result.version, 1);
    const paths = result.issues.map((issue) => issue.path);
    assert.ok(paths.includes('services.inventory.retry.maxAttempts'), paths.join(', '));
    assert.ok(
      paths.some((path) => path.startsWith('services.inventory.circuit')),
      paths.join(', '),
    );
    assert.equal(await attemptsOf(), 1, 'still one attempt');
    moduleRef.get(CircuitBreakerService).get('inventory').reset();
  });

  it('a valid reload applies to new calls at once; a call in flight finishes under the pipeline it started with', async () => {
    dependency.down = true;
    let release!: () => void;
    dependency.hold = new Promise((resolve) => {
      release = resolve;
    });
    dependency.attempts = 0;
    const inFlight = inventory.check().catch(() => undefined);
    const result = settings.reload(base({ retry: { maxAttempts: 3 } }));
    assert.equal(result.result, 'applied', JSON.stringify(result.issues));
    assert.equal(result.version, 2);
    assert.ok(
      result.changed.some((what) => what.startsWith('retry policy')),
      result.changed.join(', '),
    );
    assert.equal(settings.version, 2);
    dependency.hold = undefined;
    release();
    await inFlight;
    assert.equal(dependency.attempts, 1, 'the call in flight kept its one attempt');
    moduleRef.get(CircuitBreakerService).get('inventory').reset();
    assert.equal(await attemptsOf(), 3, 'a new call takes the new retry');
    moduleRef.get(CircuitBreakerService).get('inventory').reset();
  });

  it('an open breaker stays open across a reload: the same breaker when its settings keep, its state carried when they change', async () => {
    dependency.down = true;
    const breakers = moduleRef.get(CircuitBreakerService);
    const before = breakers.get('inventory');
    settings.reload(base({ retry: { maxAttempts: 1 } }));
    for (let i = 0; i < 2; i++) await inventory.check().catch(() => undefined);
    assert.equal(breakers.get('inventory').state, 'open');
    clock.advance(10_000);

    assert.equal(settings.reload(base({ retry: { maxAttempts: 2 } })).result, 'applied');
    assert.equal(breakers.get('inventory'), before, 'retry changed, the breaker did not: the same object');
    await assert.rejects(inventory.check(), CircuitOpenError);

    const result = settings.reload(base({ retry: { maxAttempts: 2 }, circuit: { failureThreshold: 4 } }));
    assert.equal(result.result, 'applied');
    assert.ok(result.changed.includes('circuit breaker "inventory"'), result.changed.join(', '));
    const replaced = breakers.get('inventory');
    assert.notEqual(replaced, before);
    assert.equal(replaced.state, 'open', 'its state was carried over');
    await assert.rejects(inventory.check(), CircuitOpenError);
    clock.advance(19_999);
    assert.equal(replaced.state, 'open', 'the same open time: 30 s from when it opened');
    clock.advance(1);
    assert.equal(replaced.state, 'half_open');
    dependency.down = false;
    assert.equal(await inventory.check(), 'in stock');
  });

  it('a reload of what needs a restart is refused naming it; the same settings again are "unchanged"', () => {
    const version = settings.version;
    const frozen = settings.reload({
      ...base({ retry: { maxAttempts: 2 }, circuit: { failureThreshold: 4 } }),
      metrics: { enabled: false },
    });
    assert.equal(frozen.result, 'invalid');
    assert.deepEqual(
      frozen.issues.map((issue) => issue.path),
      ['metrics'],
    );
    const queue = settings.reload(
      base({ retry: { maxAttempts: 2 }, circuit: { failureThreshold: 4 }, dlq: { retentionDays: 3 } }),
    );
    assert.equal(queue.result, 'invalid');
    assert.match(queue.issues[0]?.path ?? '', /dead-letter queue "inventory"/);
    const same = settings.reload(base({ retry: { maxAttempts: 2 }, circuit: { failureThreshold: 4 } }));
    assert.equal(same.result, 'unchanged');
    assert.equal(settings.version, version);
  });

  it('counts reloads by result and shows the version in force', async () => {
    const reloads = await register.getSingleMetric('resilience_config_reloads_total')?.get();
    const count = (result: string) => reloads?.values.find((v) => v.labels.result === result)?.value ?? 0;
    assert.ok(count('applied') >= 4, JSON.stringify(reloads?.values));
    assert.ok(count('invalid') >= 3);
    assert.ok(count('unchanged') >= 1);
    const version = await register.getSingleMetric('resilience_config_version')?.get();
    assert.ok(version?.values.some((v) => v.value === settings.version));
  });
});
