import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type CanActivate,
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  Scope,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import {
  CircuitBreaker,
  CircuitBreakerService,
  CircuitOpenError,
  DeadLetterService,
  RateLimit,
  RateLimitExceededError,
  RESILIENCE_ROLLOUT,
  ResilienceModule,
  ResilienceService,
  Resilient,
  Retry,
} from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';
import { fakeTime } from '../support/nest-timing.js';

const refused = () => Object.assign(new Error('downstream refused'), { code: 'ECONNREFUSED' });

/** A downstream whose health the test sets; counts calls per operation. */
@Injectable()
class Downstream {
  healthy = false;
  calls: Record<string, number> = {};
  hit(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    if (!this.healthy) throw refused();
  }
}

@Injectable()
class PaymentGateway {
  constructor(private readonly downstream: Downstream) {}

  // The guide: payment_service = ResilientService('payment_gateway', tier='critical')
  @Resilient('payment_gateway')
  async charge(payment: { amount: number }): Promise<{ charged: number }> {
    this.downstream.hit('charge');
    return { charged: payment.amount };
  }
}

@Controller('payments')
class PaymentsController {
  constructor(private readonly gateway: PaymentGateway) {}
  @Post()
  pay() {
    return this.gateway.charge({ amount: 42 });
  }
}

/** No decorator: `http.routes` maps GET /users/:id to the user_api service (standard tier). */
@Controller('users')
class UsersController {
  constructor(private readonly downstream: Downstream) {}
  @Get(':id')
  async get(@Param('id') id: string) {
    this.downstream.hit('user');
    return { id };
  }
}

/** Controller-level: every route of it is the analytics service (non_critical, fire-and-forget). */
@Controller('analytics')
@Resilient('analytics')
class AnalyticsController {
  constructor(private readonly downstream: Downstream) {}
  @Post()
  async track() {
    this.downstream.hit('analytics');
    return { tracked: true };
  }
}

const CONFIG = {
  services: {
    payment_gateway: { tier: 'critical', retry: { jitter: false } },
    user_api: { tier: 'standard', retry: { jitter: false }, rate: { rate: 4, per: 60, key: 'ip' as const } },
    analytics: { tier: 'non_critical', retry: { jitter: false }, dlq: { rethrow: false } },
  },
  http: { routes: { 'GET /users/:id': 'user_api' } },
};

@Module({
  imports: [ResilienceModule.forRoot(CONFIG)],
  controllers: [PaymentsController, UsersController, AnalyticsController],
  providers: [Downstream, PaymentGateway],
})
class GuideExamplesModule {}

for (const platform of PLATFORMS) {
  describe(`the guide's three usage examples over HTTP on ${platform}`, () => {
    let url: string;
    let downstream: Downstream;
    let dlq: DeadLetterService;
    let close: () => Promise<void>;
    before(async () => {
      const started = await startHttpApp(GuideExamplesModule, platform, (builder) => fakeTime(builder));
      url = started.url;
      downstream = started.app.get(Downstream);
      dlq = started.app.get(DeadLetterService);
      close = () => started.app.close();
    });
    after(() => close());

    it('payments (critical): 5 attempts a call, open after 2 failed calls, 503 with Retry-After 180, one dead letter per call', async () => {
      assert.equal((await fetch(`${url}/payments`, { method: 'POST' })).status, 500);
      assert.equal((await fetch(`${url}/payments`, { method: 'POST' })).status, 500);
      assert.equal(downstream.calls.charge, 10);
      const rejected = await fetch(`${url}/payments`, { method: 'POST' });
      assert.equal(rejected.status, 503);
      assert.equal(rejected.headers.get('retry-after'), '180');
      assert.equal(downstream.calls.charge, 10, 'the open breaker spares the gateway');
      const letters = (await dlq.queue('payment_gateway').list()).items;
      assert.deepEqual(
        letters.map((l) => [l.reason, l.attempts]),
        [
          ['failed', 5],
          ['failed', 5],
          ['circuit_open', 0],
        ],
      );
    });

    it('user API (standard, mapped in config): 3 attempts, then 429 with RateLimit headers past the limit', async () => {
      assert.equal((await fetch(`${url}/users/1`)).status, 500);
      assert.equal(downstream.calls.user, 3, 'standard: 3 attempts');
      downstream.healthy = true;
      const ok = await fetch(`${url}/users/2`);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { id: '2' });
      assert.match(ok.headers.get('ratelimit') ?? '', /^"user_api";r=2;t=\d+$/);
      await fetch(`${url}/users/3`);
      await fetch(`${url}/users/4`);
      const limited = await fetch(`${url}/users/5`);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal(limited.headers.get('ratelimit-policy'), '"user_api";q=4;w=60');
      assert.equal(await dlq.queue('user_api').size(), 1, 'only the failed call was dead-lettered');
      downstream.healthy = false;
    });

    it('analytics (non_critical, on the controller): 2 attempts, the failure dead-lettered and swallowed', async () => {
      const response = await fetch(`${url}/analytics`, { method: 'POST' });
      assert.equal(response.status, 201);
      assert.equal(downstream.calls.analytics, 2);
      assert.equal(await dlq.queue('analytics').size(), 1);
    });
  });
}

// ---- decorator mechanics ----

class AllowGuard implements CanActivate {
  static allow = true;
  canActivate() {
    return AllowGuard.allow;
  }
}

/** Stands for @nestjs/swagger's ApiOperation: metadata on the method, by another library. */
const ApiOperation =
  (summary: string): MethodDecorator =>
  (_t, _k, d) => {
    Reflect.defineMetadata('swagger/apiOperation', { summary }, d.value as object);
    return d;
  };

@Injectable()
class Mechanics {
  calls = { a: 0, b: 0 };

  @RateLimit({ name: 'a', rate: 100, per: 60 })
  @CircuitBreaker('a', { failureThreshold: 2 })
  @Retry({ maxAttempts: 3, jitter: false })
  async a(): Promise<void> {
    this.calls.a++;
    throw refused();
  }

  @Retry({ maxAttempts: 3, jitter: false })
  @CircuitBreaker('b', { failureThreshold: 2 })
  @RateLimit({ name: 'b', rate: 100, per: 60 })
  async b(): Promise<void> {
    this.calls.b++;
    throw refused();
  }
}

@Controller('mechanics')
class MechanicsController {
  @Get('guarded')
  @ApiOperation('above ours')
  @UseGuards(AllowGuard)
  @CircuitBreaker('guarded')
  @SetMetadata('roles', ['admin'])
  @ApiOperation('below ours')
  guarded() {
    return 'ok';
  }
}

@Injectable({ scope: Scope.REQUEST })
class PerRequestClient {
  @CircuitBreaker('per_request_dependency', { failureThreshold: 2 })
  async call(): Promise<string> {
    throw refused();
  }
}

@Controller('scoped')
class ScopedController {
  constructor(private readonly client: PerRequestClient) {}
  @Get()
  call() {
    return this.client.call();
  }
}

@Module({
  imports: [ResilienceModule.forRoot()],
  controllers: [MechanicsController, ScopedController],
  providers: [Mechanics, PerRequestClient],
})
class MechanicsModule {}

describe('decorator mechanics', () => {
  it('combine in the guide order whatever order they are written in', async () => {
    const builder = Test.createTestingModule({ imports: [MechanicsModule] });
    fakeTime(builder);
    const moduleRef = await builder.compile();
    await moduleRef.init();
    const m = moduleRef.get(Mechanics);
    const outcomes = { a: [] as string[], b: [] as string[] };
    for (const name of ['a', 'b'] as const) {
      for (let i = 0; i < 3; i++) {
        const e = await m[name]().catch((error) => error);
        outcomes[name].push(e instanceof CircuitOpenError ? 'open' : e.code);
      }
    }
    assert.deepEqual(outcomes.a, ['ECONNREFUSED', 'ECONNREFUSED', 'open']);
    assert.deepEqual(outcomes.b, outcomes.a);
    assert.deepEqual(m.calls, { a: 6, b: 6 }, '3 attempts per call inside the breaker, in both orders');
    await moduleRef.close();
  });

  for (const platform of PLATFORMS) {
    it(`keep guards and other libraries' metadata working on ${platform}`, async () => {
      const { app, url } = await startHttpApp(MechanicsModule, platform);
      try {
        const handler = MechanicsController.prototype.guarded;
        assert.deepEqual(Reflect.getMetadata('roles', handler), ['admin']);
        assert.deepEqual(Reflect.getMetadata('swagger/apiOperation', handler), { summary: 'above ours' });
        AllowGuard.allow = true;
        assert.equal((await fetch(`${url}/mechanics/guarded`)).status, 200);
        AllowGuard.allow = false;
        assert.equal((await fetch(`${url}/mechanics/guarded`)).status, 403, 'the guard still runs');
      } finally {
        AllowGuard.allow = true;
        await app.close();
      }
    });

    it(`share one breaker across the instances of a request-scoped provider on ${platform}`, async () => {
      const { app, url } = await startHttpApp(MechanicsModule, platform);
      try {
        assert.equal((await fetch(`${url}/scoped`)).status, 500);
        assert.equal((await fetch(`${url}/scoped`)).status, 500);
        assert.equal((await fetch(`${url}/scoped`)).status, 503, 'two requests, two instances, one breaker');
        assert.equal(app.get(CircuitBreakerService).states().per_request_dependency, 'open');
      } finally {
        await app.close();
      }
    });
  }
});

// ---- ResilienceService.call and gradual rollout ----

describe('ResilienceService.call and gradual rollout', () => {
  const ROLLOUT = {
    services: {
      checkout: {
        tier: 'standard',
        retry: { maxAttempts: 1 },
        rate: { rate: 1e9, per: 60 },
        rollout: { percent: 30, retry: { maxAttempts: 2, jitter: false } },
      },
    },
  };

  async function app(rolloutFlag?: (service: string) => number | undefined) {
    const builder = Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ resilience: ROLLOUT })] }),
        ResilienceModule.forRoot(),
      ],
    });
    fakeTime(builder);
    if (rolloutFlag) builder.overrideProvider(RESILIENCE_ROLLOUT).useValue(rolloutFlag);
    const moduleRef = await builder.compile();
    await moduleRef.init();
    return moduleRef;
  }

  /** 2 attempts: the rollout arm served the call (its retry allows 2); 1: the stable arm. */
  async function armOf(service: ResilienceService, key: string): Promise<'rollout' | 'stable'> {
    let attempts = 0;
    await service
      .call(
        'checkout',
        () => {
          attempts++;
          throw refused();
        },
        { key },
      )
      .catch(() => {});
    return attempts === 2 ? 'rollout' : 'stable';
  }

  it('runs a function through the service stack (the guide: payment_service.call(gateway.charge, data))', async () => {
    const builder = Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({ services: { payment_gateway: { tier: 'critical', retry: { jitter: false } } } }),
      ],
    });
    const time = fakeTime(builder);
    const moduleRef = await builder.compile();
    await moduleRef.init();
    const service = moduleRef.get(ResilienceService);
    let attempts = 0;
    const charge = async (data: { amount: number }) => {
      if (++attempts < 3) throw refused();
      return { charged: data.amount };
    };
    assert.deepEqual(await service.call('payment_gateway', () => charge({ amount: 7 })), { charged: 7 });
    assert.equal(attempts, 3);
    assert.deepEqual(time.waits, [2, 4], 'critical tier: base delay 2 s');
    // A limit that will not reopen within maxDelay is not retried.
    let tries = 0;
    await assert.rejects(
      service.call('payment_gateway', () => {
        tries++;
        return Promise.reject(new RateLimitExceededError({ retryAfter: 999 }));
      }),
      RateLimitExceededError,
    );
    assert.equal(tries, 1);
    await moduleRef.close();
  });

  it('sends the configured share of keys to the rollout arm, each key always to the same arm', async () => {
    const moduleRef = await app();
    const service = moduleRef.get(ResilienceService);
    const arms = await Promise.all(Array.from({ length: 2000 }, (_, i) => armOf(service, `customer-${i}`)));
    const share = arms.filter((a) => a === 'rollout').length / arms.length;
    assert.ok(share > 0.26 && share < 0.34, `share ${share} (30% configured; 3 sd = ±3.1%)`);
    for (const i of [3, 17, 256]) {
      const first = arms[i];
      for (let n = 0; n < 20; n++) assert.equal(await armOf(service, `customer-${i}`), first, 'sticky per key');
    }
    await moduleRef.close();
  });

  it('takes a new share from ConfigService at once, without a restart', async () => {
    const moduleRef = await app();
    const service = moduleRef.get(ResilienceService);
    moduleRef.get(ConfigService).set('resilience.services.checkout.rollout.percent', 100);
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => armOf(service, `k${i}`)));
    assert.ok(all.every((a) => a === 'rollout'));
    moduleRef.get(ConfigService).set('resilience.services.checkout.rollout.percent', 0);
    const none = await Promise.all(Array.from({ length: 200 }, (_, i) => armOf(service, `k${i}`)));
    assert.ok(none.every((a) => a === 'stable'));
    await moduleRef.close();
  });

  it('takes the share from a flag function when one is provided', async () => {
    let percent = 0;
    const moduleRef = await app((name) => (name === 'checkout' ? percent : undefined));
    const service = moduleRef.get(ResilienceService);
    assert.equal(await armOf(service, 'x'), 'stable');
    percent = 100;
    assert.equal(await armOf(service, 'x'), 'rollout');
    await moduleRef.close();
  });
});
