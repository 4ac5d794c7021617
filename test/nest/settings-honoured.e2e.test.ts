import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  CircuitBreakerService,
  DeadLetterService,
  RateLimit,
  RateLimiterService,
  ResilienceModule,
  Resilient,
  RetryService,
} from '../../lib/index.js';
import { startHttpApp } from '../support/http-apps.js';

@Injectable()
class Quiet {
  @RateLimit({ name: 'off_by_decorator', rate: 1, per: 60, key: 'global', enabled: false })
  async byDecorator(): Promise<string> {
    return 'ok';
  }
}

@Controller()
class QuietController {
  @Get('quiet')
  @Resilient('quiet_service')
  quiet() {
    return 'ok';
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      metrics: { enabled: false },
      services: { quiet_service: { rate: { rate: 1, per: 60, enabled: false } } },
    }),
  ],
  controllers: [QuietController],
  providers: [Quiet],
})
class QuietModule {}

describe('accepted settings are honoured', () => {
  it('rate.enabled: false turns the limiter off (decorator, service settings, RateLimiterService)', async () => {
    const { app, url } = await startHttpApp(QuietModule, 'express');
    try {
      const quiet = app.get(Quiet);
      for (let i = 0; i < 3; i++) assert.equal(await quiet.byDecorator(), 'ok');
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${url}/quiet`);
        assert.equal(response.status, 200, `call ${i + 1}: services.quiet_service.rate.enabled is false`);
        assert.equal(response.headers.get('ratelimit'), null, 'no limiter, no RateLimit header');
      }
      const limiter = app.get(RateLimiterService).get('off_programmatic', { rate: 1, per: 60, enabled: false });
      for (let i = 0; i < 3; i++) assert.equal((await limiter.acquire('k')).allowed, true);
    } finally {
      await app.close();
    }
  });

  it('a retry listener subscribed after its policy was created still hears every completion', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
    }).compile();
    const retries = moduleRef.get(RetryService);
    const policy = retries.policy('late_listener', { maxAttempts: 2, baseDelay: 0 });
    const heard: [string, number, boolean][] = [];
    retries.subscribe({ onComplete: (operation, attempts, succeeded) => heard.push([operation, attempts, succeeded]) });
    let calls = 0;
    await policy.execute(async () => {
      if (++calls === 1) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 'ok';
    });
    assert.deepEqual(heard, [['late_listener', 2, true]]);
    await moduleRef.close();
  });
});

describe('rate-limit listeners', () => {
  it('a listener that decides again cannot turn a denial into an admission', async () => {
    @Injectable()
    class Limited {
      @RateLimit({ name: 'once_only', rate: 1, per: 60, burst: 0, key: 'global' })
      async call(): Promise<string> {
        return 'ran';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Limited],
    }).compile();
    await moduleRef.init();
    const rates = moduleRef.get(RateLimiterService);
    // On every decision, decide synchronously for another key of the same limiter (it has
    // room): that overwrites the store's shared decision object at once.
    rates.subscribe({
      onDecision: (limiter) => {
        if (limiter === 'once_only') rates.get('once_only').tryDecideSync(`other-${Math.random()}`);
      },
    });
    const limited = moduleRef.get(Limited);
    assert.equal(await limited.call(), 'ran');
    await assert.rejects(limited.call(), /Rate limit "once_only" exceeded/, 'the second call is denied');
    await moduleRef.close();
  });
});

describe('service listeners subscribe to the items of the registry, existing and future', () => {
  it('a listener subscribed after a limiter, a breaker and a queue exist hears them, and later ones; unsubscribing stops it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
    }).compile();
    await moduleRef.init();
    const rates = moduleRef.get(RateLimiterService);
    const circuits = moduleRef.get(CircuitBreakerService);
    const letters = moduleRef.get(DeadLetterService);
    rates.get('early', { rate: 1, per: 60 });
    const breaker = circuits.get('early_breaker', { failureThreshold: 1 });
    const queue = letters.declare('early_queue', { storageBackend: 'memory' });
    const heard: string[] = [];
    const stops = [
      rates.subscribe({ onDecision: (limiter, allowed) => heard.push(`${limiter} ${allowed}`) }),
      circuits.subscribe({ onStateChange: (from, to, name) => heard.push(`${name} ${from}->${to}`) }),
      letters.subscribe({ onAdded: (name) => heard.push(`${name} added`) }),
    ];
    await rates.consume('early', 'k');
    await rates.consume('early', 'k');
    await assert.rejects(breaker.execute(() => Promise.reject(new Error('down'))));
    await queue.add({ args: [], error: new Error('x') });
    rates.get('late', { rate: 5, per: 60 });
    await rates.acquire('late', 'k');
    assert.deepEqual(heard, [
      'early true',
      'early false',
      'early_breaker closed->open',
      'early_queue added',
      'late true',
    ]);
    for (const stop of stops) stop();
    await rates.consume('late', 'k');
    await queue.add({ args: [], error: new Error('y') });
    assert.equal(heard.length, 5);
    await moduleRef.close();
  });
});

@Injectable()
class Tenants {
  @Resilient('tenant_api')
  async call(tenant: string): Promise<string> {
    return tenant;
  }
}

describe('a key function in the configuration (services.<s>.rate.keyFunc)', () => {
  it("keys a @Resilient service's limiter, and keeps a tenant on one rollout arm (it was ignored: one global count)", async () => {
    const keyed: string[] = [];
    const byTenant = (context: { args: unknown[] }) => {
      keyed.push(String(context.args[0]));
      return String(context.args[0]);
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          services: {
            tenant_api: { rate: { rate: 2, per: 60, keyFunc: byTenant }, rollout: { percent: 50 } },
          },
        }),
      ],
      providers: [Tenants],
    }).compile();
    await moduleRef.init();
    try {
      const tenants = moduleRef.get(Tenants);
      for (const tenant of ['a', 'a', 'b', 'b', 'c']) assert.equal(await tenants.call(tenant), tenant);
      await assert.rejects(tenants.call('a'), /rate limit/i, "tenant a's own third call");
      assert.ok(keyed.includes('c'), 'the function was called with the arguments');
    } finally {
      await moduleRef.close();
    }
  });
});
