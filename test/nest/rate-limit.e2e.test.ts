import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import {
  ManualClock,
  RateLimit,
  RateLimitExceededError,
  RateLimiterService,
  RESILIENCE_CLOCK,
  ResilienceModule,
} from '../../lib/index.js';
import { PLATFORMS, type Platform } from '../support/http-apps.js';

@Injectable()
class Analytics {
  /** Called from a controller: the key comes from the request through the call context. */
  @RateLimit({ name: 'per_ip', rate: 2, per: 60, key: 'ip' })
  async track(): Promise<string> {
    return 'tracked';
  }
}

@Controller()
class ApiController {
  constructor(private readonly analytics: Analytics) {}

  @Get('limited')
  @RateLimit({ name: 'limited', rate: 3, per: 60, burst: 0, strategy: 'fixed_window' })
  limited() {
    return { ok: true };
  }

  @Get('by-ip')
  byIp() {
    return this.analytics.track();
  }

  @Get('tiered')
  @RateLimit({
    name: 'plans',
    key: 'user',
    tiers: { free: { rate: 1, per: 3600 }, premium: { rate: 5, per: 3600 } },
    tier: ({ request }) => (request as { headers: Record<string, string> }).headers['x-plan'],
    keyFunc: ({ request }) => `user:${(request as { headers: Record<string, string> }).headers['x-user']}`,
  })
  tiered() {
    return 'ok';
  }

  @Get('unlimited')
  unlimited() {
    return 'free';
  }
}

function moduleFor(clock: ManualClock) {
  @Module({
    imports: [ResilienceModule.forRoot({ metrics: { enabled: true } })],
    controllers: [ApiController],
    providers: [Analytics],
  })
  class AppModule {}
  return { module: AppModule, clock };
}

async function start(platform: Platform, trustProxy: boolean) {
  register.clear();
  const clock = new ManualClock(Date.parse('2026-11-28T00:00:10Z'));
  const { module } = moduleFor(clock);
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const builder = Test.createTestingModule({ imports: [module] });
  builder.overrideProvider(RESILIENCE_CLOCK).useValue(clock);
  const moduleRef = await builder.compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter({ trustProxy }))
      : moduleRef.createNestApplication();
  if (platform === 'express' && trustProxy)
    (app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set('trust proxy', true);
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, clock };
}

for (const platform of PLATFORMS) {
  describe(`@RateLimit over HTTP on ${platform}`, () => {
    let url: string;
    let close: () => Promise<void>;
    let clock: ManualClock;
    before(async () => {
      const started = await start(platform, false);
      url = started.url;
      clock = started.clock;
      close = () => started.app.close();
    });
    after(() => close());

    it('answers 429 with Retry-After and the IETF RateLimit headers', async () => {
      const first = await fetch(`${url}/limited`);
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('ratelimit-policy'), '"limited";q=3;w=60');
      assert.equal(first.headers.get('ratelimit'), '"limited";r=2;t=50', 'fixed window: 50 s left at 00:00:10');
      await fetch(`${url}/limited`);
      await fetch(`${url}/limited`);
      const denied = await fetch(`${url}/limited`);
      assert.equal(denied.status, 429);
      assert.equal(denied.headers.get('retry-after'), '50');
      assert.equal(denied.headers.get('ratelimit'), '"limited";r=0;t=50');
      const body = (await denied.json()) as { statusCode: number; retryAfter: number };
      assert.equal(body.statusCode, 429);
      assert.equal(body.retryAfter, 50);
      clock.advance(50_000);
      assert.equal((await fetch(`${url}/limited`)).status, 200, 'the next window admits again');
    });

    it('keys by the client address and ignores X-Forwarded-For without trust proxy', async () => {
      const spoof = (ip: string) => fetch(`${url}/by-ip`, { headers: { 'x-forwarded-for': ip } });
      assert.equal((await spoof('1.1.1.1')).status, 200);
      assert.equal((await spoof('2.2.2.2')).status, 200);
      assert.equal((await spoof('3.3.3.3')).status, 429, 'a forged header does not buy a new bucket');
    });

    it('picks a limiter per tier for each call', async () => {
      const call = (user: string, plan: string) =>
        fetch(`${url}/tiered`, { headers: { 'x-user': user, 'x-plan': plan } });
      assert.equal((await call('ann', 'free')).status, 200);
      assert.equal((await call('ann', 'free')).status, 429, 'free: 1 per hour');
      for (let i = 0; i < 5; i++) assert.equal((await call('bob', 'premium')).status, 200);
      assert.equal((await call('bob', 'premium')).status, 429, 'premium: 5 per hour');
      assert.equal((await call('cat', 'unknown-plan')).status, 200, 'an unknown tier falls back to the first');
    });

    it('leaves routes without limits alone', async () => {
      const response = await fetch(`${url}/unlimited`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('ratelimit'), null);
    });

    it('counts requests_total and rate_limit_rejections_total by limiter name, never by key', async () => {
      const text = await register.metrics();
      assert.match(text, /requests_total\{key="limited"\} 5/);
      assert.match(text, /rate_limit_rejections_total\{key="limited"\} 1/);
      assert.match(text, /rate_limit_rejections_total\{key="plans:free"\} 1/);
      assert.doesNotMatch(text, /key="(ip|user):/);
    });
  });

  describe(`@RateLimit behind a trusted proxy on ${platform}`, () => {
    it("keys by the framework's client address, which honours trust proxy", async () => {
      const { app, url } = await start(platform, true);
      try {
        const from = (ip: string) => fetch(`${url}/by-ip`, { headers: { 'x-forwarded-for': ip } });
        assert.equal((await from('1.1.1.1')).status, 200);
        assert.equal((await from('1.1.1.1')).status, 200);
        assert.equal((await from('1.1.1.1')).status, 429);
        assert.equal((await from('2.2.2.2')).status, 200, 'another client behind the proxy has its own bucket');
      } finally {
        await app.close();
      }
    });
  });
}

describe('RateLimiterService and @RateLimit outside HTTP', () => {
  it('consume returns verdicts; a decorated method called without a request shares the global key', async () => {
    register.clear();
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ rateLimiters: { outbound: { preset: 'stripe', burst: 0 } } })],
      providers: [Analytics],
    }).compile();
    await moduleRef.init();
    const rates = moduleRef.get(RateLimiterService);
    const verdict = await rates.consume('outbound', 'acct-1');
    assert.deepEqual([verdict.allowed, verdict.limit, verdict.remaining], [true, 100, 99]);
    assert.equal((await rates.consume('github', 'me')).limit, 5100, 'a preset by name');
    const analytics = moduleRef.get(Analytics);
    await analytics.track();
    await analytics.track();
    await assert.rejects(Promise.resolve(analytics.track()), RateLimitExceededError);
    await moduleRef.close();
  });
});
