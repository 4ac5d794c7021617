import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChaosExperiments,
  ChaosInjectedError,
  CircuitOpenError,
  DeadLetterService,
  ManualClock,
  RESILIENCE_CLOCK,
  ResilienceConfigError,
  ResilienceModule,
  Resilient,
} from '../../lib/index.js';
import { ADMIN_TOKEN, LogCapture } from '../support/admin-app.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const real = { gateway: 0, inventory: 0 };

@Injectable()
class Shop {
  @Resilient('payment_gateway')
  async charge(): Promise<string> {
    real.gateway++;
    return 'charged';
  }

  @Resilient('inventory')
  async reserve(): Promise<string> {
    real.inventory++;
    return 'reserved';
  }
}

@Controller('shop')
class ShopController {
  constructor(private readonly shop: Shop) {}
  @Get('charge')
  charge() {
    return this.shop.charge();
  }
}

const CONFIG = {
  metrics: { enabled: false },
  admin: { enabled: true, path: '/ops', token: ADMIN_TOKEN },
  chaos: { enabled: true },
  services: {
    payment_gateway: {
      circuit: { failureThreshold: 3, timeout: 30 },
      retry: { maxAttempts: 2, baseDelay: 0.001, jitter: false },
      rate: { enabled: false },
      dlq: { storageBackend: 'memory' as const, rethrow: true },
    },
    inventory: { rate: { enabled: false } },
  },
};

@Module({
  imports: [ResilienceModule.forRoot(CONFIG)],
  controllers: [ShopController],
  providers: [Shop],
})
class ShopModule {}

for (const platform of PLATFORMS) {
  describe(`chaos through the admin API (${platform})`, () => {
    let app: Awaited<ReturnType<typeof startHttpApp>>;
    const clock = new ManualClock(Date.now());
    const logs = new LogCapture();
    const admin = (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) =>
      fetch(`${app.url}/ops/${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    before(async () => {
      app = await startHttpApp(ShopModule, platform, (builder) =>
        builder.overrideProvider(RESILIENCE_CLOCK).useValue(clock),
      );
      app.app.useLogger(logs);
    });
    after(() => app.app.close());

    it('needs the token, a JSON body and valid settings; each start and stop is audited', async () => {
      const experiment = {
        service: 'payment_gateway',
        fault: 'error',
        error: 'ConnectionError',
        rate: 1,
        duration: '30s',
      };
      assert.equal((await admin('POST', 'chaos', experiment, '')).status, 401);
      const bad = await admin('POST', 'chaos', { ...experiment, rate: 2 });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { message: string }).message, /body\.rate/);
      const noError = await admin('POST', 'chaos', { ...experiment, error: undefined });
      assert.match(
        ((await noError.json()) as { message: string }).message,
        /body\.error: is required for a error fault/,
      );
      const started = await admin('POST', 'chaos', experiment);
      assert.equal(started.status, 201);
      const { id } = (await started.json()) as { id: string };
      assert.equal((await admin('DELETE', `chaos/${id}`)).status, 200);
      assert.equal((await admin('DELETE', `chaos/${id}`)).status, 404);
      const audit = logs.audit().map((line) => line.what);
      assert.ok(audit.some((what) => what.startsWith('start chaos')));
      assert.ok(audit.includes(`stop chaos experiment ${id}`));
    });

    it('injected ConnectionErrors reach the retry, the breaker and the dead letter as real ones; other services are untouched', async () => {
      const shop = app.app.get(Shop);
      Object.assign(real, { gateway: 0, inventory: 0 });
      const started = await admin('POST', 'chaos', {
        service: 'payment_gateway',
        fault: 'error',
        error: 'ConnectionError',
        rate: 1,
        duration: '30s',
      });
      const { id } = (await started.json()) as { id: string };
      // Three failed calls (two attempts each: retried like real connection errors) open the breaker.
      for (let i = 0; i < 3; i++) await assert.rejects(shop.charge(), ChaosInjectedError);
      await assert.rejects(shop.charge(), CircuitOpenError);
      assert.equal(real.gateway, 0, 'the real dependency was never called');
      const letters = await app.app.get(DeadLetterService).queue('payment_gateway').peek(10);
      assert.ok(letters.length >= 3);
      assert.equal(letters[0].error.name, 'ConnectionError');
      assert.equal(letters[0].attempts, 2, 'both attempts failed: the retry retried the injected error');
      assert.equal(await shop.reserve(), 'reserved');
      assert.equal(real.inventory, 1, 'inventory is another service: never hit');
      const listed = (await (await admin('GET', 'chaos')).json()) as { experiments: { id: string }[] };
      assert.deepEqual(
        listed.experiments.map((e) => e.id),
        [id],
      );
      // It ends by itself after its duration.
      clock.advance(30_000);
      assert.deepEqual(app.app.get(ChaosExperiments).list(), []);
    });

    it('the kill switch ends every experiment at once', async () => {
      for (const service of ['payment_gateway', 'inventory']) {
        await admin('POST', 'chaos', { service, fault: 'latency', latency: '1s', rate: 0.5, duration: '10m' });
      }
      const killed = await admin('DELETE', 'chaos');
      assert.deepEqual(await killed.json(), { stopped: 2 });
      assert.deepEqual(app.app.get(ChaosExperiments).list(), []);
    });
  });
}

describe('chaos is guarded', () => {
  const boot = async (config: object) => {
    const moduleRef = await Test.createTestingModule({ imports: [ResilienceModule.forRoot(config)] }).compile();
    await moduleRef.init();
    return moduleRef;
  };

  it('refused in production unless allowInProduction; experiments need chaos on', async () => {
    await assert.rejects(
      boot({ environment: 'production', metrics: { enabled: false }, chaos: { enabled: true } }),
      (e) => e instanceof ResilienceConfigError && /chaos\.enabled.*allowInProduction/s.test(e.message),
    );
    const allowed = await boot({
      environment: 'production',
      metrics: { enabled: false },
      chaos: { enabled: true, allowInProduction: true },
    });
    await allowed.close();
    await assert.rejects(
      boot({
        metrics: { enabled: false },
        chaos: { experiments: [{ service: 'x', fault: 'error', error: '503', rate: 1, duration: 5 }] },
      }),
      (e) => e instanceof ResilienceConfigError && /chaos\.experiments/.test(e.message),
    );
    await assert.rejects(
      boot({ metrics: { enabled: false }, chaos: { enabled: true, scope: 'fleet' } }),
      (e) =>
        e instanceof ResilienceConfigError && /chaos\.scope: is 'fleet' but no redis is configured/.test(e.message),
    );
  });

  it('an end time instead of a duration; a latency distribution; each problem named by its path', async () => {
    const clock = new ManualClock(Date.now());
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false }, chaos: { enabled: true } })],
    })
      .overrideProvider(RESILIENCE_CLOCK)
      .useValue(clock)
      .compile();
    await moduleRef.init();
    try {
      const chaos = moduleRef.get(ChaosExperiments);
      const base = { service: 'x', fault: 'error', error: '503', rate: 1 };
      const until = new Date(Date.now() + 60_000).toISOString();
      const view = chaos.start({ ...base, expiresAt: until }, 'test');
      assert.ok(Math.abs(Date.parse(view.endsAt) - Date.parse(until)) < 5, 'ends when asked');
      clock.advance(59_000);
      assert.equal(chaos.list().length, 1);
      clock.advance(1_100);
      assert.deepEqual(chaos.list(), [], 'ended at expiresAt, on the module clock');
      assert.throws(() => chaos.start(base, 'test', 'e'), /e\.duration: is required \(or expiresAt\)/);
      assert.throws(
        () => chaos.start({ ...base, duration: 5, expiresAt: until }, 'test', 'e'),
        /e\.expiresAt: and duration are both given/,
      );
      assert.throws(
        () => chaos.start({ ...base, expiresAt: Date.now() - 1 }, 'test', 'e'),
        /e\.expiresAt: is not in the future/,
      );
      const latency = chaos.start(
        { service: 'x', fault: 'latency', latency: { min: '10ms', max: '2s' }, rate: 1, duration: 5 },
        'test',
      );
      assert.deepEqual(latency.latency, { min: 0.01, max: 2 });
      assert.throws(
        () => chaos.start({ ...base, fault: 'latency', latency: { min: '3s', max: '1s' }, duration: 5 }, 'test', 'e'),
        /e\.latency\.min: min must not be over max/,
      );
      assert.throws(
        () => chaos.start({ ...base, fault: 'latency', latency: { mean: 'soon' }, duration: 5 }, 'test', 'e'),
        /e\.latency\.mean: invalid duration/,
      );
    } finally {
      await moduleRef.close();
    }
  });

  it('off by default: starting an experiment is refused', async () => {
    const moduleRef = await boot({ metrics: { enabled: false } });
    try {
      const chaos = moduleRef.get(ChaosExperiments);
      assert.equal(chaos.enabled, false);
      assert.throws(
        () => chaos.start({ service: 'x', fault: 'error', error: '503', rate: 1, duration: 5 }, 'test'),
        /chaos is off/,
      );
    } finally {
      await moduleRef.close();
    }
  });
});
