import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { defer, Observable } from 'rxjs';
import {
  ApplicationShutdownError,
  CircuitBreaker,
  CircuitOpenError,
  RESILIENCE_SLEEP,
  ResilienceModule,
  Retry,
  RetryService,
} from '../../lib/index.js';
import { fakeTime } from '../support/nest-timing.js';

const refused = () => Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });

@Injectable()
class Clients {
  calls: Record<string, number> = {};
  failFirst = 0;

  private hit(key: string): number {
    this.calls[key] = (this.calls[key] ?? 0) + 1;
    return this.calls[key];
  }

  /** Service from the class name: user_api is configured below. */
  @Retry({ service: 'user_api' })
  async user(): Promise<string> {
    if (this.hit('user') <= this.failFirst) throw refused();
    return 'alice';
  }

  @Retry({ service: 'payment_gateway' })
  async charge(): Promise<string> {
    this.hit('charge');
    throw refused();
  }

  @Retry('network')
  async fetchFeed(): Promise<string> {
    this.hit('feed');
    throw refused();
  }

  // Written with @Retry on top: still the guide's order (breaker outside retry).
  @Retry({ service: 'payment_gateway' })
  @CircuitBreaker('payment_gateway')
  async refund(): Promise<string> {
    this.hit('refund');
    throw refused();
  }

  @CircuitBreaker('ledger', { failureThreshold: 2 })
  @Retry({ maxAttempts: 3, jitter: false })
  stream(): Observable<string> {
    return defer(async () => {
      if (this.hit('stream') < 3) throw refused();
      return 'streamed';
    });
  }

  @Retry({ maxAttempts: 3, jitter: false })
  async notFound(): Promise<string> {
    this.hit('notFound');
    throw Object.assign(new Error('no such user'), { status: 404 });
  }
}

@Controller()
class FlakyController {
  constructor(readonly _clients: Clients) {}
  attempts = 0;

  @Get('flaky')
  @Retry({ maxAttempts: 3, jitter: false, baseDelay: '10ms' })
  flaky() {
    if (++this.attempts < 3) throw refused();
    return { attempts: this.attempts };
  }
}

const CONFIG = {
  services: {
    user_api: { tier: 'standard', retry: { jitter: false } },
    payment_gateway: { tier: 'critical', retry: { jitter: false } },
  },
  metrics: { enabled: true },
};

@Module({ imports: [ResilienceModule.forRoot(CONFIG)], providers: [Clients], controllers: [FlakyController] })
class AppModule {}

async function boot() {
  register.clear();
  const builder = Test.createTestingModule({ imports: [AppModule] });
  const time = fakeTime(builder);
  const moduleRef = await builder.compile();
  await moduleRef.init();
  return { moduleRef, clients: moduleRef.get(Clients), ...time };
}

describe('@Retry through a Nest app', () => {
  it("uses the service's tier when given no settings (standard: 3 attempts, 1 s then 2 s)", async () => {
    const { moduleRef, clients, waits } = await boot();
    clients.failFirst = 2;
    assert.equal(await clients.user(), 'alice');
    assert.equal(clients.calls.user, 3);
    assert.deepEqual(waits, [1, 2]);
    await moduleRef.close();
  });

  it('critical tier: 5 attempts from 2 s, then rethrows the error unchanged', async () => {
    const { moduleRef, clients, waits } = await boot();
    const error = await clients.charge().catch((e) => e);
    assert.equal(error.code, 'ECONNREFUSED');
    assert.equal(error.attempts, 5);
    assert.deepEqual(waits, [2, 4, 8, 16]);
    await moduleRef.close();
  });

  it('takes a preset by name', async () => {
    const { moduleRef, clients } = await boot();
    await clients.fetchFeed().catch(() => {});
    assert.equal(clients.calls.feed, 4, 'presets.retry.network: 4 attempts');
    await moduleRef.close();
  });

  it('counts one breaker failure per call, after its retries, whatever the decorator order', async () => {
    const { moduleRef, clients } = await boot();
    await clients.refund().catch(() => {});
    assert.equal(clients.calls.refund, 5);
    await clients.refund().catch(() => {});
    assert.equal(clients.calls.refund, 10, 'critical threshold 2: two failed calls');
    await assert.rejects(clients.refund(), CircuitOpenError);
    assert.equal(clients.calls.refund, 10, 'the open breaker stops the retries before they start');
    await moduleRef.close();
  });

  it('retries an Observable-returning method by subscribing again', async () => {
    const { moduleRef, clients } = await boot();
    const value = await new Promise((resolve, reject) => clients.stream().subscribe({ next: resolve, error: reject }));
    assert.equal(value, 'streamed');
    assert.equal(clients.calls.stream, 3);
    await moduleRef.close();
  });

  it('does not retry a 404', async () => {
    const { moduleRef, clients } = await boot();
    await clients.notFound().catch(() => {});
    assert.equal(clients.calls.notFound, 1);
    await moduleRef.close();
  });

  it("exports the guide's retry_attempts histogram and a retries counter", async () => {
    const { moduleRef, clients } = await boot();
    clients.failFirst = 2;
    await clients.user();
    await clients.user();
    const text = await register.metrics();
    assert.match(text, /# TYPE retry_attempts histogram/);
    assert.match(text, /retry_attempts_count\{operation="Clients.user"\} 2/);
    assert.match(text, /retry_attempts_sum\{operation="Clients.user"\} 4/, '3 attempts, then 1');
    assert.match(text, /retries_total\{operation="Clients.user"\} 2/);
    await moduleRef.close();
  });

  it('retries a controller route handler', async () => {
    const { moduleRef } = await boot();
    const app = moduleRef.createNestApplication();
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/flaky`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { attempts: 3 });
    await app.close();
  });

  it('cancels waiting retries when the application shuts down', async () => {
    register.clear();
    const builder = Test.createTestingModule({ imports: [AppModule] });
    // A real wait of 2 s per retry (critical tier): close() must not wait for it.
    builder.overrideProvider(RESILIENCE_SLEEP).useValue(
      (ms: number, signal?: AbortSignal) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        }),
    );
    const moduleRef = await builder.compile();
    await moduleRef.init();
    const pending = moduleRef
      .get(Clients)
      .charge()
      .catch((e) => e);
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    await moduleRef.close();
    const outcome = await pending;
    assert.ok(outcome instanceof ApplicationShutdownError);
    assert.ok(Date.now() - started < 1000);
  });

  it('many retries waiting at once raise no MaxListenersExceededWarning (they share the shutdown signal)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
    }).compile();
    await moduleRef.init();
    try {
      const retries = moduleRef.get(RetryService);
      let calls = 0;
      const flaky = async ({ attempt }: { attempt: number }) => {
        calls++;
        if (attempt === 1) throw refused();
        return attempt;
      };
      // The real sleep: 50 calls wait for their retry at the same time.
      const results = await Promise.all(
        Array.from({ length: 50 }, () => retries.execute(flaky, { maxAttempts: 2, baseDelay: 0.005, jitter: false })),
      );
      assert.deepEqual(new Set(results), new Set([2]));
      assert.equal(calls, 100);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      await moduleRef.close();
    }
  });

  it('RetryService.execute takes settings or a preset name', async () => {
    const { moduleRef, waits } = await boot();
    const retries = moduleRef.get(RetryService);
    let n = 0;
    const flaky = async () => {
      if (++n < 3) throw refused();
      return n;
    };
    assert.equal(
      await retries.execute(flaky, { maxAttempts: 3, baseDelay: '100ms', jitter: false, operation: 'adhoc' }),
      3,
    );
    assert.deepEqual(waits, [0.1, 0.2]);
    n = 0;
    await assert.rejects(
      retries.execute(flaky, { preset: 'development', operation: 'dev' }),
      /refused/,
      'development: 2 attempts',
    );
    await moduleRef.close();
  });
});
