import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { CircuitBreaker, ResilienceConfigError, ResilienceHealthIndicator, ResilienceModule } from '../../lib/index.js';
import { testRedisUrl } from '../support/redis.js';
import { freePort } from '../support/redis-server.js';

@Injectable()
class Ledger {
  @CircuitBreaker('ledger')
  async charge(): Promise<string> {
    return 'charged';
  }

  @CircuitBreaker('ledger_down')
  async fail(): Promise<never> {
    throw new Error('ledger down');
  }
}

async function boot(config: Parameters<typeof ResilienceModule.forRoot>[0]) {
  const moduleRef = await Test.createTestingModule({
    imports: [ResilienceModule.forRoot(config)],
    providers: [Ledger],
  }).compile();
  moduleRef.useLogger(false);
  return moduleRef.init();
}

async function bootError(config: Parameters<typeof ResilienceModule.forRoot>[0]): Promise<string> {
  try {
    const app = await boot(config);
    await app.close();
  } catch (error) {
    assert.ok(error instanceof ResilienceConfigError, `got ${error}`);
    return error.message;
  }
  throw new Error('booted without a configuration error');
}

describe('circuit.scope at bootstrap', () => {
  it('a shared scope with no redis is a configuration error naming where it is set (never a silent local breaker)', async () => {
    const message = await bootError({ services: { ledger: { circuit: { scope: 'shared' } } } });
    assert.match(
      message,
      /services\.ledger\.circuit\.scope: "shared" keeps the state in Redis, and no redis is configured/,
    );
  });

  it('a tier asking for quorum with no quorum rule names the tier', async () => {
    const message = await bootError({
      metrics: { enabled: false },
      tiers: { standard: { circuit: { scope: 'quorum' } } },
      services: { ledger: { tier: 'standard' } },
    });
    assert.match(
      message,
      /tiers\.standard\.circuit\.quorum: scope 'quorum' needs quorum\.replicas .* or quorum\.percent/,
    );
  });

  it('both replicas and percent, merged from two layers, are refused rather than one ignored', async () => {
    const message = await bootError({
      metrics: { enabled: false },
      tiers: { standard: { circuit: { scope: 'quorum', quorum: { replicas: 2 } } } },
      services: { ledger: { tier: 'standard', circuit: { quorum: { percent: 50 } } } },
    });
    assert.match(message, /exactly one, got \{"replicas":2,"percent":50\}/);
  });

  it('a quorum rule on a breaker that is not in scope quorum is refused (it would be ignored)', async () => {
    const message = await bootError({
      metrics: { enabled: false },
      services: { ledger: { circuit: { scope: 'shared', quorum: { replicas: 2 } } } },
    });
    assert.match(message, /quorum: is set but scope is "shared"/);
  });

  it('metrics: replicas open (quorum) from the fleet, and store errors while Redis cannot answer', async () => {
    const prefix = `scope_${process.pid}_`;
    const app = await boot({
      redis: { url: testRedisUrl(), keyPrefix: `metrics-${process.pid}` },
      metrics: { enabled: true, prefix },
      services: { ledger_down: { circuit: { scope: 'quorum', quorum: { replicas: 2 }, failureThreshold: 1 } } },
    });
    try {
      await assert.rejects(app.get(Ledger).fail(), /ledger down/);
      const deadline = Date.now() + 2000;
      let text = '';
      while (!/replicas_open\{service="ledger_down"\} 1/.test(text)) {
        assert.ok(Date.now() < deadline, `no replica counted open:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        text = (await register.getSingleMetricAsString(`${prefix}circuit_breaker_replicas_open`)) ?? '';
      }
      assert.match(
        (await register.getSingleMetricAsString(`${prefix}circuit_breaker_replicas_live`)) ?? '',
        /replicas_live\{service="ledger_down"\} 1/,
      );
    } finally {
      await app.close();
    }
    const port = await freePort();
    const down = await boot({
      redis: { url: `redis://127.0.0.1:${port}`, connectTimeout: 0.2 },
      metrics: { enabled: true, prefix },
      services: { ledger: { circuit: { scope: 'shared' } } },
    });
    try {
      // Redis never answered: the breaker acts alone, the call goes through, the errors are counted.
      assert.equal(await down.get(Ledger).charge(), 'charged');
      assert.match(
        (await register.getSingleMetricAsString(`${prefix}circuit_breaker_store_errors_total`)) ?? '',
        /store_errors_total\{service="ledger"\} [1-9]/,
      );
      const health = await down.get(ResilienceHealthIndicator).isHealthy();
      assert.equal(health.resilience.circuits.ledger?.sharing, false);
      assert.equal(health.resilience.state, 'degraded');
    } finally {
      await down.close();
      register.clear();
    }
  });

  it('scope shared on a decorator boots with redis and reports sharing in health', async () => {
    const app = await boot({
      redis: { url: testRedisUrl(), keyPrefix: `scope-${process.pid}` },
      metrics: { enabled: false },
      services: { ledger: { circuit: { scope: 'shared' } } },
    });
    try {
      assert.equal(await app.get(Ledger).charge(), 'charged');
      const health = await app.get(ResilienceHealthIndicator).isHealthy();
      assert.deepEqual(health.resilience.circuits.ledger, { state: 'closed', tier: 'standard', sharing: true });
      assert.equal(health.resilience.state, 'up');
    } finally {
      await app.close();
    }
  });
});
