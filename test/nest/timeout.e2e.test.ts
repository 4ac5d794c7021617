import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { register } from 'prom-client';
import {
  currentCallSignal,
  Fallback,
  ResilienceConfigError,
  ResilienceModule,
  Resilient,
  Retry,
  Timeout,
  TimeoutError,
} from '../../lib/index.js';
import { closedConnections, type HangingServer, startHangingServer } from '../support/hanging-server.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

describe('@Timeout with a real fetch against a dependency that never answers', () => {
  let dependency: HangingServer;
  let url = '';
  let moduleRef: TestingModule;

  @Injectable()
  class Catalog {
    signals: (AbortSignal | undefined)[] = [];

    @Timeout('150ms')
    async load(): Promise<number> {
      const signal = currentCallSignal();
      this.signals.push(signal);
      return (await fetch(url, { signal })).status;
    }

    // Each attempt 100 ms, then a retry: three attempts, three connections closed.
    @Retry({ maxAttempts: 3, baseDelay: 0.01, jitter: false })
    @Timeout({ timeout: 0.1, per: 'attempt' })
    async perAttempt(): Promise<number> {
      const signal = currentCallSignal();
      this.signals.push(signal);
      return (await fetch(url, { signal })).status;
    }

    // The whole call 250 ms, retries included: the retry's waits (1 s) cannot fit a second attempt.
    @Retry({ maxAttempts: 3, baseDelay: 1, jitter: false })
    @Timeout({ timeout: 0.25, per: 'call' })
    async perCall(): Promise<number> {
      const signal = currentCallSignal();
      this.signals.push(signal);
      return (await fetch(url, { signal })).status;
    }
  }

  before(async () => {
    dependency = await startHangingServer();
    url = dependency.url;
    moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Catalog],
    }).compile();
    await moduleRef.init();
  });
  after(async () => {
    await moduleRef.close();
    await dependency.close();
  });

  it('the call fails with TimeoutError and the server sees its connection close', async () => {
    const catalog = moduleRef.get(Catalog);
    const started = Date.now();
    await assert.rejects(catalog.load(), (e) => e instanceof TimeoutError && e.timeout === 0.15 && e.per === 'call');
    const failedAfter = Date.now() - started;
    assert.ok(failedAfter >= 140 && failedAfter < 1500, `failed after ${failedAfter} ms`);
    assert.equal(catalog.signals[0]?.aborted, true);
    assert.ok(catalog.signals[0]?.reason instanceof TimeoutError, 'the signal says why');
    assert.equal(await closedConnections(dependency, 1), 1, 'the request was abandoned on the wire');
  });

  it('per attempt: each attempt has its own deadline and signal, and the retry runs them all', async () => {
    const catalog = moduleRef.get(Catalog);
    catalog.signals = [];
    const closedBefore = dependency.closedAt.length;
    await assert.rejects(catalog.perAttempt(), (e) => e instanceof TimeoutError && e.per === 'attempt');
    assert.equal(catalog.signals.length, 3, 'three attempts');
    assert.equal(new Set(catalog.signals).size, 3, 'a fresh signal per attempt');
    assert.ok(catalog.signals.every((s) => s?.aborted));
    assert.equal(await closedConnections(dependency, closedBefore + 3), closedBefore + 3);
  });

  it('per call: the deadline covers the retries and their waits', async () => {
    const catalog = moduleRef.get(Catalog);
    catalog.signals = [];
    const started = Date.now();
    await assert.rejects(catalog.perCall(), (e) => e instanceof TimeoutError && e.per === 'call');
    const failedAfter = Date.now() - started;
    assert.ok(failedAfter < 900, `the call ended at its deadline (${failedAfter} ms), not after the 1 s backoff`);
    assert.equal(catalog.signals.length, 1, 'the first attempt only: the wait for the second outlived the call');
  });
});

describe('the timeout over HTTP, from configuration', () => {
  for (const platform of PLATFORMS) {
    it(`${platform}: a service's timeout section answers 504 when the call runs past it`, async () => {
      @Injectable()
      class Reports {
        @Resilient('reports')
        async build(): Promise<string> {
          await new Promise((resolve, reject) => {
            const timer = setTimeout(resolve, 5000);
            currentCallSignal()?.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(currentCallSignal()?.reason);
            });
          });
          return 'done';
        }
      }
      @Controller()
      class ReportsController {
        constructor(private readonly reports: Reports) {}
        @Get('report')
        report() {
          return this.reports.build();
        }
      }
      @Module({
        imports: [
          ResilienceModule.forRoot({
            metrics: { enabled: false },
            services: { reports: { timeout: { timeout: '100ms' }, retry: { enabled: false } } },
          }),
        ],
        controllers: [ReportsController],
        providers: [Reports],
      })
      class AppModule {}
      const { app, url } = await startHttpApp(AppModule, platform);
      try {
        const started = Date.now();
        const response = await fetch(`${url}/report`);
        const body = (await response.json()) as { statusCode: number; message: string };
        assert.equal(response.status, 504);
        assert.equal(body.statusCode, 504);
        assert.match(body.message, /timed out after 0.1s/);
        assert.equal(response.headers.get('retry-after'), null, 'a timeout does not know when to come back');
        assert.ok(Date.now() - started < 2000);
      } finally {
        await app.close();
      }
    });
  }

  it('a timeout turned on without a duration is refused at bootstrap, naming the place', async () => {
    @Injectable()
    class Broken {
      @Timeout({ per: 'attempt' })
      async run(): Promise<void> {}
    }
    const building = Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Broken],
    })
      .compile()
      .then((ref) => ref.init());
    await assert.rejects(
      building,
      (e) => e instanceof ResilienceConfigError && /Broken\.run timeout\.timeout: is required/.test(e.message),
    );
  });

  it('each call that ran past its timeout is counted in timeouts_total, by service and per', async () => {
    @Injectable()
    class Ledger {
      @Resilient('ledger-timeouts')
      async post(): Promise<void> {
        await new Promise((_, reject) =>
          currentCallSignal()?.addEventListener('abort', () => reject(currentCallSignal()?.reason)),
        );
      }
    }
    const ref = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          services: { 'ledger-timeouts': { timeout: { timeout: '30ms' }, retry: { enabled: false } } },
        }),
      ],
      providers: [Ledger],
    }).compile();
    await ref.init();
    try {
      const ledger = ref.get(Ledger);
      for (let i = 0; i < 3; i++) await assert.rejects(ledger.post(), TimeoutError);
      const metric = await register.getSingleMetric('timeouts_total')?.get();
      const series = metric?.values.find((v) => v.labels.service === 'ledger-timeouts');
      assert.deepEqual(series?.labels, { service: 'ledger-timeouts', per: 'call' });
      assert.equal(series?.value, 3);
    } finally {
      await ref.close();
    }
  });

  it('@Fallback answers for a timeout over HTTP (200 with its value), counted in fallbacks_total', async () => {
    @Controller()
    class PricesController {
      @Get('price')
      @Fallback({ value: { price: 9.99, stale: true }, handle: 'TimeoutError' })
      @Timeout('50ms')
      async price(): Promise<unknown> {
        await new Promise((_, reject) =>
          currentCallSignal()?.addEventListener('abort', () => reject(currentCallSignal()?.reason)),
        );
        return { price: 10.49, stale: false };
      }
    }
    @Module({ imports: [ResilienceModule.forRoot({})], controllers: [PricesController] })
    class AppModule {}
    const { app, url } = await startHttpApp(AppModule, 'express');
    try {
      const response = await fetch(`${url}/price`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { price: 9.99, stale: true });
      const metric = await register.getSingleMetric('fallbacks_total')?.get();
      const series = metric?.values.find((v) => v.labels.service === 'PricesController');
      assert.deepEqual(series?.labels, { service: 'PricesController', outcome: 'answered' });
      assert.equal(series?.value, 1);
    } finally {
      await app.close();
    }
  });

  it('@Fallback refuses an option that names neither a handler nor a value, or both', () => {
    assert.throws(() => Fallback({} as never), /needs a handler function, \{ handler \} or \{ value \}/);
    assert.throws(() => Fallback({ handler: () => 1, value: 2 }), /a handler or a value, not both/);
  });
});
