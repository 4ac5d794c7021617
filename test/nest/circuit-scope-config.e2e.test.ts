import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CircuitBreaker, ResilienceConfigError, ResilienceHealthIndicator, ResilienceModule } from '../../lib/index.js';
import { testRedisUrl } from '../support/redis.js';

@Injectable()
class Ledger {
  @CircuitBreaker('ledger')
  async charge(): Promise<string> {
    return 'charged';
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
  it('a shared scope with no redis is a configuration error naming the breaker (never a silent local breaker)', async () => {
    const message = await bootError({ services: { ledger: { circuit: { scope: 'shared' } } } });
    assert.match(
      message,
      /circuit breaker "ledger"\.scope: "shared" keeps the state in Redis, and no redis is configured/,
    );
  });

  it('a tier asking for quorum with no quorum rule names the breaker', async () => {
    const message = await bootError({
      metrics: { enabled: false },
      tiers: { standard: { circuit: { scope: 'quorum' } } },
      services: { ledger: { tier: 'standard' } },
    });
    assert.match(
      message,
      /circuit breaker "ledger"\.quorum: scope 'quorum' needs quorum\.replicas .* or quorum\.percent/,
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
