import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  CircuitBreaker,
  DeadLetter,
  RateLimit,
  ResilienceConfigError,
  ResilienceModule,
  ResilienceService,
} from '../../lib/index.js';

const reset = () => Object.assign(new Error('reset'), { code: 'ECONNRESET' });

/** Compiles and initialises (the explorer builds every pipeline in onModuleInit). */
async function boot(...providers: (new (...args: never[]) => unknown)[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
    providers,
  }).compile();
  return moduleRef.init();
}

describe('one name, one set of options', () => {
  it('two @CircuitBreaker with one name and different options fail bootstrap, naming both methods', async () => {
    @Injectable()
    class Orders {
      @CircuitBreaker('inventory', { failureThreshold: 3 })
      async reserve() {}
    }
    @Injectable()
    class Returns {
      @CircuitBreaker('inventory', { failureThreshold: 8 })
      async restock() {}
    }
    await assert.rejects(boot(Orders, Returns), (error: unknown) => {
      assert.ok(error instanceof ResilienceConfigError);
      assert.match(error.message, /circuit breaker "inventory"/);
      assert.match(error.message, /Returns\.restock gives it other options than Orders\.reserve/);
      return true;
    });
  });

  it('the same options under one name share one breaker', async () => {
    @Injectable()
    class A {
      @CircuitBreaker('shared_ok', { failureThreshold: 3 })
      async a() {}
    }
    @Injectable()
    class B {
      @CircuitBreaker('shared_ok', { failureThreshold: 3 })
      async b() {}
    }
    const moduleRef = await boot(A, B);
    await moduleRef.close();
  });

  it('two @RateLimit with one name and different rates fail bootstrap', async () => {
    @Injectable()
    class Search {
      @RateLimit({ name: 'search_api', rate: 10, per: 60 })
      async query() {}
    }
    @Injectable()
    class Suggest {
      @RateLimit({ name: 'search_api', rate: 20, per: 60 })
      async suggest() {}
    }
    await assert.rejects(
      boot(Search, Suggest),
      /rate limiter "search_api".*Suggest\.suggest gives it other options than Search\.query/s,
    );
  });

  it("two @DeadLetter with one queue and different retention fail bootstrap; rethrow is each caller's own", async () => {
    @Injectable()
    class Billing {
      @DeadLetter('invoices', { retentionDays: 7 })
      async send() {}
    }
    @Injectable()
    class Archive {
      @DeadLetter('invoices', { retentionDays: 90 })
      async store() {}
    }
    await assert.rejects(
      boot(Billing, Archive),
      /dead-letter queue "invoices".*Archive\.store gives it other options than Billing\.send/s,
    );
    @Injectable()
    class Quiet {
      @DeadLetter('invoices', { retentionDays: 7, rethrow: false })
      async notify() {}
    }
    const app = await boot(Billing, Quiet);
    await app.close();
  });
});

describe('ResilienceService.call per-call overrides take effect', () => {
  it('a later call with other retry settings retries as it says', async () => {
    const moduleRef = await boot();
    const resilience = moduleRef.get(ResilienceService);
    let calls = 0;
    const failing = async () => {
      calls++;
      throw reset();
    };
    await assert.rejects(resilience.call('overrides_svc', failing, { retry: { maxAttempts: 1 } }));
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(resilience.call('overrides_svc', failing, { retry: { maxAttempts: 3, baseDelay: 0 } }));
    assert.equal(calls, 3, 'maxAttempts: 3 ran three times');
    await moduleRef.close();
  });

  it('functions in overrides count: two retryIf functions give two behaviours', async () => {
    const moduleRef = await boot();
    const resilience = moduleRef.get(ResilienceService);
    const run = async (retryIf: (error: unknown) => boolean) => {
      let calls = 0;
      await resilience
        .call(
          'fn_overrides',
          async () => {
            calls++;
            throw reset();
          },
          { retry: { maxAttempts: 3, baseDelay: 0, retryIf } },
        )
        .catch(() => {});
      return calls;
    };
    assert.equal(await run(() => false), 1);
    assert.equal(await run(() => true), 3, 'not the first retryIf, dropped by JSON.stringify as before');
    await moduleRef.close();
  });

  it('a circuit override that contradicts the breaker of that name rejects the call, naming both', async () => {
    @Injectable()
    class Payments {
      @CircuitBreaker('pay_svc', { failureThreshold: 2 })
      async charge() {}
    }
    const moduleRef = await boot(Payments);
    const resilience = moduleRef.get(ResilienceService);
    await assert.rejects(
      resilience.call('pay_svc', async () => 1, { circuit: { failureThreshold: 9 }, retry: { maxAttempts: 1 } }),
      /circuit breaker "pay_svc".*ResilienceService\.call\('pay_svc'\) gives it other options than Payments\.charge/s,
    );
    await moduleRef.close();
  });
});
