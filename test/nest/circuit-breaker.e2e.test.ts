import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module, Post, SetMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Observable, of, throwError } from 'rxjs';
import {
  CircuitBreaker,
  CircuitBreakerService,
  CircuitOpenError,
  ResilienceConfigError,
  ResilienceModule,
} from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const connectionRefused = () => Object.assign(new Error('gateway down'), { code: 'ECONNREFUSED' });

@Injectable()
class PaymentGateway {
  down = false;
  calls = 0;

  @CircuitBreaker('payment_gateway')
  async charge(amount: number): Promise<{ charged: number }> {
    this.calls++;
    if (this.down) throw connectionRefused();
    return { charged: amount };
  }

  @CircuitBreaker('ledger', { failureThreshold: 1 })
  record(entry: string): Observable<string> {
    return this.down ? throwError(connectionRefused) : of(`recorded ${entry}`);
  }
}

@Controller()
class PaymentsController {
  constructor(private readonly gateway: PaymentGateway) {}

  @Post('pay')
  pay() {
    return this.gateway.charge(42);
  }

  @Get('reports')
  @SetMetadata('roles', ['admin'])
  @CircuitBreaker('reports', { failureThreshold: 2, timeout: '90s' })
  reports(): string {
    throw connectionRefused();
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ services: { payment_gateway: { tier: 'critical' } } })],
  controllers: [PaymentsController],
  providers: [PaymentGateway],
})
class PaymentsModule {}

for (const platform of PLATFORMS) {
  describe(`@CircuitBreaker through a Nest app on ${platform}`, () => {
    let url: string;
    let gateway: PaymentGateway;
    let breakers: CircuitBreakerService;
    let close: () => Promise<void>;
    before(async () => {
      const started = await startHttpApp(PaymentsModule, platform);
      url = started.url;
      gateway = started.app.get(PaymentGateway);
      breakers = started.app.get(CircuitBreakerService);
      close = () => started.app.close();
    });
    after(() => close());

    it('opens after the critical tier threshold and answers 503 with Retry-After', async () => {
      assert.equal((await fetch(`${url}/pay`, { method: 'POST' })).status, 201);
      gateway.down = true;
      assert.equal((await fetch(`${url}/pay`, { method: 'POST' })).status, 500);
      assert.equal((await fetch(`${url}/pay`, { method: 'POST' })).status, 500);
      const callsWhenOpened = gateway.calls;
      const rejected = await fetch(`${url}/pay`, { method: 'POST' });
      assert.equal(rejected.status, 503);
      assert.equal(rejected.headers.get('retry-after'), '180', 'the critical tier opens for 180 s');
      assert.equal(((await rejected.json()) as { statusCode: number }).statusCode, 503);
      assert.equal(gateway.calls, callsWhenOpened, 'an open breaker does not call the gateway');
      assert.equal(breakers.states().payment_gateway, 'open');
      assert.equal(breakers.tierOf('payment_gateway'), 'critical');
    });

    it('applies to controller methods exactly once, keeping their metadata', async () => {
      // Threshold 2: a breaker applied twice would count each failure twice and open after one call.
      assert.equal((await fetch(`${url}/reports`)).status, 500);
      assert.equal(breakers.get('reports').state, 'closed');
      assert.equal((await fetch(`${url}/reports`)).status, 500);
      const third = await fetch(`${url}/reports`);
      assert.equal(third.status, 503);
      assert.equal(third.headers.get('retry-after'), '90');
      assert.deepEqual(Reflect.getMetadata('roles', PaymentsController.prototype.reports), ['admin']);
    });

    it('breaks Observable-returning methods, outside HTTP with the plain error', async () => {
      gateway.down = true;
      const failed = await new Promise((resolve) => gateway.record('a').subscribe({ error: resolve }));
      assert.equal((failed as { code: string }).code, 'ECONNREFUSED');
      const rejected = await new Promise((resolve) => gateway.record('b').subscribe({ error: resolve }));
      assert.ok(rejected instanceof CircuitOpenError);
      gateway.down = false;
      breakers.get('ledger').reset();
      const value = await new Promise((resolve) => gateway.record('c').subscribe(resolve));
      assert.equal(value, 'recorded c');
    });
  });
}

describe('@CircuitBreaker binding', () => {
  it('runs an instance made with `new` without resilience, and warns once', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const gateway = new PaymentGateway();
    gateway.down = true;
    for (let i = 0; i < 5; i++) await gateway.charge(1).catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    assert.equal(gateway.calls, 5);
    assert.equal(warnings.filter((w) => w.includes('PaymentGateway.charge')).length, 1);
  });

  it('fails bootstrap on bad decorator options, naming the breaker', async () => {
    @Injectable()
    class Broken {
      @CircuitBreaker('broken', { failureThreshold: 0 })
      run() {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot()],
      providers: [Broken],
    }).compile();
    await assert.rejects(moduleRef.init(), (error: unknown) => {
      assert.ok(error instanceof ResilienceConfigError);
      assert.match(error.message, /circuit breaker "broken"\.failureThreshold: must be >= 1, got 0/);
      return true;
    });
  });

  it('refuses the same decorator twice on one method', () => {
    assert.throws(() => {
      class Twice {
        @CircuitBreaker('a')
        @CircuitBreaker('b')
        run() {}
      }
      return Twice;
    }, /@CircuitBreaker is applied twice/);
  });
});
