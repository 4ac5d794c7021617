import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { describe, it } from 'node:test';
import { Controller, Get, Injectable, Module, Query } from '@nestjs/common';
import { register } from 'prom-client';
import {
  Bulkhead,
  BulkheadService,
  CircuitBreaker,
  CircuitBreakerService,
  Criticality,
  currentCriticality,
  ManualClock,
  RateLimit,
  RESILIENCE_CLOCK,
  ResilienceModule,
  resilientFetch,
} from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

/** Answers with the criticality header it received. */
async function echoServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) =>
    response.end(String(request.headers['x-request-criticality'])),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const echo = { url: '' };

@Injectable()
class Orders {
  /** One slot, one place in the queue. */
  @Bulkhead({ name: 'orders', maxConcurrent: 1, maxQueue: 1, queueTimeout: 5 })
  async place(ms: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return `placed (${currentCriticality() ?? 'unclassed'})`;
  }

  @RateLimit({ rate: 5, per: 60 })
  async quote(): Promise<string> {
    return 'quoted';
  }

  /** Fails while `Orders.down`; opens at the first failure for 10 s (on the test's clock). */
  static down = false;
  @CircuitBreaker('stock', { failureThreshold: 1, successThreshold: 1, timeout: 10 })
  async stock(): Promise<string> {
    if (Orders.down) throw Object.assign(new Error('stock service refused'), { code: 'ECONNREFUSED' });
    return 'in stock';
  }

  @Criticality('sheddable')
  async prefetch(): Promise<string | undefined> {
    return currentCriticality();
  }

  @Criticality('critical_plus')
  async charge(): Promise<string> {
    return (await resilientFetch(echo.url)).text();
  }
}

@Controller()
class OrdersController {
  constructor(private readonly orders: Orders) {}
  @Get('place')
  place(@Query('ms') ms: string) {
    return this.orders.place(Number(ms));
  }
  @Get('quote')
  quote() {
    return this.orders.quote();
  }
  @Get('stock')
  stock() {
    return this.orders.stock();
  }
  @Get('prefetch')
  prefetch() {
    return this.orders.prefetch();
  }
  @Get('charge')
  charge() {
    return this.orders.charge();
  }
}

@Module({
  imports: [ResilienceModule.forRoot({})],
  controllers: [OrdersController],
  providers: [Orders],
})
class OrdersModule {}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const platform of PLATFORMS) {
  describe(`criticality over real HTTP (${platform})`, () => {
    it("a critical request turns a queued sheddable one away from a full bulkhead; the class comes from the caller's header", async () => {
      const { app, url } = await startHttpApp(OrdersModule, platform);
      try {
        const get = (ms: number, criticality?: string) =>
          fetch(`${url}/place?ms=${ms}`, { headers: criticality ? { 'x-request-criticality': criticality } : {} });
        const bulkhead = () => app.get(BulkheadService).all().get('orders');
        // Each request is sent once the one before has reached the bulkhead (not after a guess of a pause).
        const until = async (ready: () => boolean) => {
          for (let waited = 0; !ready() && waited < 5000; waited += 5) await pause(5);
        };
        const holding = get(1000);
        await until(() => bulkhead()?.inFlight === 1);
        const queued = get(10, 'sheddable');
        await until(() => bulkhead()?.queued === 1);
        const critical = get(10, 'CRITICAL');
        const [first, shed, served] = await Promise.all([holding, queued, critical]);
        assert.equal(first.status, 200);
        assert.equal(shed.status, 503, 'the sheddable waiter made room');
        assert.equal(served.status, 200);
        assert.equal(await served.text(), 'placed (critical)');
        const metric = await register.getSingleMetric('bulkhead_rejections_by_criticality_total')?.get();
        const sheddable = metric?.values.find(
          (v) => v.labels.service === 'orders' && v.labels.criticality === 'sheddable',
        );
        assert.ok((sheddable?.value ?? 0) >= 1);
      } finally {
        await app.close();
      }
    });

    it('a rate limiter nearly used up refuses sheddable requests (429) and keeps the rest for critical ones', async () => {
      const { app, url } = await startHttpApp(OrdersModule, platform);
      try {
        const quote = (criticality?: string) =>
          fetch(`${url}/quote`, { headers: criticality ? { 'x-request-criticality': criticality } : {} }).then(
            (r) => r.status,
          );
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push(await quote());
        // 2 of 5 left; a sheddable request must leave 1 (20%).
        statuses.push(await quote('sheddable'), await quote('sheddable'), await quote('critical'));
        assert.deepEqual(statuses, [200, 200, 200, 200, 429, 200]);
        const metric = await register.getSingleMetric('rate_limit_rejections_by_criticality_total')?.get();
        const refused = (criticality: string) =>
          metric?.values.find((v) => v.labels.key === 'Orders' && v.labels.criticality === criticality)?.value;
        assert.ok((refused('sheddable') ?? 0) >= 1, `refusals counted by class: ${JSON.stringify(metric?.values)}`);
        assert.equal(refused('critical_plus'), undefined);
      } finally {
        await app.close();
      }
    });

    it('a half-open breaker gives its trial to the critical caller, not to the sheddable one that came first', async () => {
      const clock = new ManualClock(Date.now());
      const { app, url } = await startHttpApp(OrdersModule, platform, (builder) =>
        builder.overrideProvider(RESILIENCE_CLOCK).useValue(clock),
      );
      try {
        const stock = (criticality?: string) =>
          fetch(`${url}/stock`, { headers: criticality ? { 'x-request-criticality': criticality } : {} }).then(
            (r) => r.status,
          );
        Orders.down = true;
        assert.equal(await stock(), 500);
        clock.advance(5_000);
        assert.equal(await stock('critical'), 503, 'open: a critical caller is turned away too (and seen)');
        Orders.down = false;
        clock.advance(5_000);
        assert.equal(app.get(CircuitBreakerService).get('stock').state, 'half_open');
        assert.equal(await stock('sheddable'), 503, 'the trial is kept for the critical class');
        assert.equal(await stock('critical'), 200, 'the critical caller probes and closes the breaker');
        assert.equal(await stock('sheddable'), 200);
      } finally {
        Orders.down = false;
        await app.close();
      }
    });

    it("a method's @Criticality wins over the header, and resilientFetch passes the class on", async () => {
      const server = await echoServer();
      echo.url = server.url;
      const { app, url } = await startHttpApp(OrdersModule, platform);
      try {
        const prefetch = await fetch(`${url}/prefetch`, { headers: { 'x-request-criticality': 'critical_plus' } });
        assert.equal(await prefetch.text(), 'sheddable');
        const charge = await fetch(`${url}/charge`);
        assert.equal(await charge.text(), 'critical_plus', 'the next service heard it');
      } finally {
        await app.close();
        await server.close();
      }
    });
  });
}
