import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import {
  CircuitBreaker,
  CircuitBreakerService,
  Coalesce,
  ResilienceHealthIndicator,
  ResilienceModule,
} from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const refused = () => Object.assign(new Error('down'), { code: 'ECONNREFUSED' });

@Injectable()
class Downstreams {
  @CircuitBreaker('payment_gateway')
  async charge(): Promise<string> {
    throw refused();
  }

  @CircuitBreaker('user_api')
  async user(): Promise<string> {
    return 'alice';
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly resilience: ResilienceHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.resilience.isHealthy('resilience')]);
  }
}

@Module({
  imports: [
    PrometheusModule.register({ defaultMetrics: { enabled: false } }),
    TerminusModule,
    ResilienceModule.forRoot({
      services: { payment_gateway: { tier: 'critical' }, user_api: { tier: 'standard' } },
      metrics: { enabled: true },
    }),
  ],
  controllers: [HealthController],
  providers: [Downstreams],
})
class ObservedModule {}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const platform of PLATFORMS) {
  describe(`breaker metrics and health on ${platform}`, () => {
    let url: string;
    let downstreams: Downstreams;
    let breakers: CircuitBreakerService;
    let close: () => Promise<void>;
    before(async () => {
      register.clear();
      const started = await startHttpApp(ObservedModule, platform);
      url = started.url;
      downstreams = started.app.get(Downstreams);
      breakers = started.app.get(CircuitBreakerService);
      close = () => started.app.close();
    });
    after(() => close());

    it('is up while every breaker is closed', async () => {
      await downstreams.user();
      const response = await fetch(`${url}/health`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { status: string };
      assert.equal(body.status, 'ok');
    });

    it("exports the guide's breaker metrics with the values the calls imply", async () => {
      await downstreams.charge().catch(() => {});
      await downstreams.charge().catch(() => {});
      await downstreams.charge().catch(() => {}); // rejected: open
      const text = await (await fetch(`${url}/metrics`)).text();
      assert.equal(sample(text, 'circuit_breaker_state{service="payment_gateway"}'), 2);
      assert.equal(sample(text, 'circuit_breaker_state{service="user_api"}'), 0);
      assert.equal(sample(text, 'circuit_breaker_failures_total{service="payment_gateway"}'), 2);
      assert.equal(sample(text, 'circuit_breaker_rejections_total{service="payment_gateway"}'), 1);
      assert.equal(
        sample(text, 'circuit_breaker_transitions_total{service="payment_gateway",from="closed",to="open"}'),
        1,
      );
      assert.match(text, /# TYPE circuit_breaker_state gauge/);
      assert.match(text, /# TYPE circuit_breaker_failures_total counter/);
    });

    it('is down (503) while the critical payments breaker is open', async () => {
      const response = await fetch(`${url}/health`);
      assert.equal(response.status, 503);
      const body = (await response.json()) as {
        error: Record<string, { status: string; circuits: Record<string, { state: string }> }>;
      };
      assert.equal(body.error.resilience.status, 'down');
      assert.equal(body.error.resilience.circuits.payment_gateway.state, 'open');
    });

    it('is degraded (200) while a breaker is half-open', async () => {
      breakers.get('payment_gateway').reset();
      const users = breakers.get('user_api');
      users.restore({ ...users.snapshot(), state: 'half_open' });
      const response = await fetch(`${url}/health`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as {
        status: string;
        info?: unknown;
        details: Record<string, { status: string }>;
      };
      assert.equal(body.details.resilience.status, 'degraded');
      const text = await (await fetch(`${url}/metrics`)).text();
      assert.equal(sample(text, 'circuit_breaker_state{service="user_api"}'), 1);
    });
  });
}

describe('metrics shared by two applications in one process', () => {
  it('registers nothing twice and reports the breakers of both', async () => {
    register.clear();
    @Injectable()
    class A {
      @CircuitBreaker('service_a')
      run() {
        return 1;
      }
    }
    @Injectable()
    class B {
      @CircuitBreaker('service_b')
      run() {
        return 2;
      }
    }
    const first = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: true } })],
      providers: [A],
    }).compile();
    const second = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: true, prefix: '' } })],
      providers: [B],
    }).compile();
    await first.init();
    await second.init();
    await first.get(A).run();
    await second.get(B).run();
    const text = await register.metrics();
    assert.equal(sample(text, 'circuit_breaker_state{service="service_a"}'), 0);
    assert.equal(sample(text, 'circuit_breaker_state{service="service_b"}'), 0);
    await first.close();
    const after = await register.metrics();
    assert.equal(
      sample(after, 'circuit_breaker_state{service="service_a"}'),
      undefined,
      'a closed app leaves the output',
    );
    assert.equal(sample(after, 'circuit_breaker_state{service="service_b"}'), 0);
    await second.close();
  });

  it('applies a name prefix', async () => {
    register.clear();
    @Injectable()
    class Profiles {
      @Coalesce()
      async load(id: string): Promise<string> {
        return id;
      }
    }
    const app = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { prefix: 'shop_' } })],
      providers: [Profiles],
    }).compile();
    await app.init();
    assert.ok(register.getSingleMetric('shop_circuit_breaker_state'));
    assert.equal(register.getSingleMetric('circuit_breaker_state'), undefined);
    // A pattern defined through a descriptor takes the prefix too.
    assert.ok(register.getSingleMetric('shop_coalesced_total'));
    assert.equal(register.getSingleMetric('coalesced_total'), undefined);
    await app.close();
  });
});
