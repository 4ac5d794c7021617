import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { z } from 'zod';
import { ResilienceConfigError, ResilienceError, ResilienceModule, Resilient, Retry } from '../../lib/index.js';
import { definePattern } from '../../lib/nest/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

// A throwaway pattern, defined through its descriptor alone: it counts the attempts that pass
// it and turns away every call past `limit` with an error of its own.

class CountExceededError extends ResilienceError {
  override readonly name = 'CountExceededError';
}

const counted: { service: string; attempt: number }[] = [];

const counting = definePattern<{ limit?: number; label?: string }, { outcome: 'passed' | 'refused' }>({
  name: 'counting',
  kind: 'counting',
  // Inside the retry: it sees every attempt, not every call.
  after: 'retry',
  schema: z.strictObject({ limit: z.number().int().min(1), label: z.string() }).partial(),
  stage({ options, service, emit }) {
    let attempts = 0;
    return {
      kind: 'counting',
      failures: 'reports-own',
      wrap: (next) => (context) => {
        attempts++;
        counted.push({ service, attempt: attempts });
        if (options.limit !== undefined && attempts > options.limit) {
          emit({ outcome: 'refused' });
          return Promise.reject(new CountExceededError(`${options.label ?? service}: over ${options.limit}`));
        }
        emit({ outcome: 'passed' });
        return next(context);
      },
    };
  },
  metrics: [{ name: 'counting_total', help: 'Attempts the counting pattern saw', labels: ['outcome'] }],
  spanEvent: 'resilience.counting',
  rejections: [
    { error: CountExceededError, rejection: { status: 429, graphql: 'TOO_MANY_REQUESTS', shutdown: false } },
  ],
});
const Counting = counting.decorator;

describe('a pattern defined through its descriptor alone', () => {
  it('is ordered (inside the retry: each attempt), decorated and metered', async () => {
    @Injectable()
    class Flaky {
      runs = 0;
      @Retry({ maxAttempts: 3, baseDelay: 0.001, jitter: false })
      @Counting()
      async call(): Promise<string> {
        this.runs++;
        if (this.runs < 3) throw new Error('flaky');
        return 'ok';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({})],
      providers: [Flaky],
    }).compile();
    await moduleRef.init();
    try {
      counted.length = 0;
      assert.equal(await moduleRef.get(Flaky).call(), 'ok');
      assert.deepEqual(
        counted.map((c) => c.attempt),
        [1, 2, 3],
        'three attempts passed the stage: it sits inside the retry',
      );
      const metric = await register.getSingleMetric('counting_total')?.get();
      const passed = metric?.values.find((v) => v.labels.outcome === 'passed' && v.labels.service === 'Flaky');
      assert.equal(passed?.value, 3);
    } finally {
      await moduleRef.close();
    }
  });

  for (const platform of PLATFORMS) {
    it(`${platform}: is configured from its service's patterns section and its error is mapped to the status it names`, async () => {
      @Injectable()
      class Inventory {
        @Resilient('inventory')
        async stock(): Promise<string> {
          return 'in stock';
        }
      }
      @Controller()
      class InventoryController {
        constructor(private readonly inventory: Inventory) {}
        @Get('stock')
        stock() {
          return this.inventory.stock();
        }
      }
      @Module({
        imports: [
          ResilienceModule.forRoot({
            metrics: { enabled: false },
            services: {
              inventory: { patterns: { counting: { limit: 2, label: 'stock' } }, retry: { enabled: false } },
            },
          }),
        ],
        controllers: [InventoryController],
        providers: [Inventory],
      })
      class AppModule {}
      const { app, url } = await startHttpApp(AppModule, platform);
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/stock`)).status);
        assert.deepEqual(
          statuses,
          [200, 200, 429],
          'the third call is over the configured limit: 429 as its descriptor maps it',
        );
      } finally {
        await app.close();
      }
    });
  }

  it('a patterns section that names no pattern, or a bad field, is an error naming its path', async () => {
    const boot = (config: object) =>
      Test.createTestingModule({ imports: [ResilienceModule.forRoot(config)] })
        .compile()
        .then((m) => m.close());
    await assert.rejects(
      boot({ metrics: { enabled: false }, services: { a: { patterns: { countin: { limit: 1 } } } } }),
      (e) => e instanceof ResilienceConfigError && /services\.a\.patterns\.countin.*names no pattern/s.test(e.message),
    );
    await assert.rejects(
      boot({ metrics: { enabled: false }, tiers: { critical: { patterns: { counting: { limit: 0 } } } } }),
      (e) => e instanceof ResilienceConfigError && /tiers\.critical\.patterns\.counting\.limit/.test(e.message),
    );
  });

  it('a decorator with bad options, a name defined twice or a kind with no place is refused at once', () => {
    assert.throws(() => Counting({ limit: -1 }), /@Counting\.limit/);
    assert.throws(() => definePattern({ ...counting.descriptor }), /a pattern named "counting" is defined already/);
    assert.throws(
      () => definePattern({ ...counting.descriptor, name: 'other' }),
      /kind "counting" belongs to "counting"/,
    );
    assert.throws(
      () => definePattern({ ...counting.descriptor, name: 'other2', kind: 'other2', after: undefined } as never),
      /needs a place/,
    );
  });
});
