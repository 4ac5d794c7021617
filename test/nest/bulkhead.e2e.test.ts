import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { parse } from 'yaml';
import {
  ApplicationShutdownError,
  Bulkhead,
  BulkheadRejectedError,
  BulkheadService,
  ResilienceConfigError,
  ResilienceHealthIndicator,
  ResilienceModule,
  Resilient,
} from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

/** Calls that wait until the test lets them go. */
class Gate {
  private waiting: (() => void)[] = [];
  entered = 0;

  pass(): Promise<void> {
    this.entered++;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  openAll(): void {
    for (const release of this.waiting.splice(0)) release();
  }
}

const gate = new Gate();

@Controller()
class ReportsController {
  @Get('report')
  @Bulkhead({ name: 'reports', maxConcurrent: 2, maxQueue: 0 })
  async report(): Promise<string> {
    await gate.pass();
    return 'report';
  }
}

@Module({ imports: [ResilienceModule.forRoot()], controllers: [ReportsController] })
class ReportsModule {}

for (const platform of PLATFORMS) {
  describe(`@Bulkhead over HTTP (${platform})`, () => {
    let app: Awaited<ReturnType<typeof startHttpApp>>['app'];
    let url: string;
    before(async () => {
      register.clear();
      ({ app, url } = await startHttpApp(ReportsModule, platform));
    });
    after(async () => {
      gate.openAll();
      await app.close();
    });

    it('answers 503 with Retry-After while every slot is taken, and serves again once one is free', async () => {
      gate.entered = 0;
      const held = [fetch(`${url}/report`), fetch(`${url}/report`)];
      while (gate.entered < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      const refused = await fetch(`${url}/report`);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      const body = (await refused.json()) as { message: string; retryAfter: number };
      assert.match(body.message, /Bulkhead "reports" is full/);
      assert.equal(body.retryAfter, 1);
      const metrics = await register.metrics();
      assert.match(metrics, /bulkhead_concurrency\{service="reports"\} 2/);
      assert.match(metrics, /bulkhead_limit\{service="reports"\} 2/);
      assert.match(metrics, /bulkhead_queue_size\{service="reports"\} 0/);
      assert.match(metrics, /bulkhead_rejections_total\{service="reports",reason="full"\} 1/);
      const health = await app.get(ResilienceHealthIndicator).isHealthy();
      assert.equal(health.resilience.state, 'degraded');
      assert.deepEqual(health.resilience.bulkheads.reports, { status: 'degraded', inFlight: 2, limit: 2, queued: 0 });
      gate.openAll();
      for (const response of await Promise.all(held)) assert.equal(await response.text(), 'report');
      const again = fetch(`${url}/report`);
      while (gate.entered < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      gate.openAll();
      assert.equal((await again).status, 200);
      assert.equal((await app.get(ResilienceHealthIndicator).isHealthy()).resilience.state, 'up');
    });
  });
}

describe('bulkhead settings', () => {
  it('@Resilient runs a bulkhead only when the configuration turns one on, with the tier’s values', async () => {
    @Injectable()
    class Calls {
      @Resilient('search')
      async search(): Promise<string> {
        await gate.pass();
        return 'found';
      }

      @Resilient('feed')
      async feed(): Promise<string> {
        return 'feed';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          metrics: { enabled: false },
          services: {
            search: { tier: 'non_critical', bulkhead: { maxConcurrent: 1 } },
            feed: { tier: 'non_critical' },
          },
        }),
      ],
      providers: [Calls],
    }).compile();
    await moduleRef.init();
    const calls = moduleRef.get(Calls);
    const bulkheads = moduleRef.get(BulkheadService);
    const first = calls.search();
    await assert.rejects(calls.search(), (e: unknown) => e instanceof BulkheadRejectedError && e.reason === 'full');
    assert.equal(bulkheads.all().get('search')?.limit, 1, 'the service sets maxConcurrent');
    assert.equal(bulkheads.all().has('feed'), false, 'no bulkhead section: none');
    assert.deepEqual(await Promise.all([calls.feed(), calls.feed(), calls.feed()]), ['feed', 'feed', 'feed']);
    gate.openAll();
    assert.equal(await first, 'found');
    await moduleRef.close();
  });

  it('bad bulkhead settings stop bootstrap with every problem and its path', async () => {
    await assert.rejects(
      Test.createTestingModule({
        imports: [
          ResilienceModule.forRoot({
            services: {
              api: {
                bulkhead: {
                  maxConcurrent: 0,
                  queueTimeout: 'soon',
                  adaptive: { algorithm: 'vegas', minLimit: 50, initialLimit: 10, maxLimit: 20 },
                },
              },
            },
          }),
        ],
      })
        .compile()
        .then((m) => m.init()),
      (error: unknown) => {
        assert.ok(error instanceof ResilienceConfigError);
        const text = error.message;
        assert.match(text, /services\.api\.bulkhead\.maxConcurrent/);
        assert.match(text, /services\.api\.bulkhead\.queueTimeout: invalid duration "soon"/);
        assert.match(text, /services\.api\.bulkhead\.adaptive\.minLimit: must be <= initialLimit \(50 > 10\)/);
        assert.match(
          text,
          /services\.api\.bulkhead\.adaptive\.initialLimit: must be <= maxLimit|adaptive\.minLimit: must be <= maxLimit/,
        );
        return true;
      },
    );
  });
});

describe('bulkhead at shutdown', () => {
  it('a call queued for a slot ends at once with ApplicationShutdownError when the app closes', async () => {
    @Injectable()
    class Slow {
      @Bulkhead({ name: 'closing', maxConcurrent: 1, maxQueue: 5, queueTimeout: 60 })
      async run(): Promise<string> {
        await gate.pass();
        return 'ran';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Slow],
    }).compile();
    await moduleRef.init();
    const slow = moduleRef.get(Slow);
    const running = slow.run();
    const queued = slow.run();
    const started = Date.now();
    const closing = moduleRef.close();
    await assert.rejects(queued, (e: unknown) => e instanceof ApplicationShutdownError);
    assert.ok(Date.now() - started < 1000, 'not after its 60 s queue timeout');
    gate.openAll();
    assert.equal(await running, 'ran');
    await closing;
  });
});

describe('docs/bulkhead.md', () => {
  it('its configuration boots as written and gives the bulkheads it describes', async () => {
    const doc = readFileSync(new URL('../../../docs/bulkhead.md', import.meta.url), 'utf8');
    const yamlBlock = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(yamlBlock, 'the page has its YAML block');
    const { resilience } = parse(yamlBlock) as { resilience: Record<string, unknown> };
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ ...resilience, metrics: { enabled: false } })],
    }).compile();
    await moduleRef.init();
    const bulkheads = moduleRef.get(BulkheadService);
    assert.equal(bulkheads.isEnabled('reports'), true);
    const reports = bulkheads.get('reports');
    assert.equal(reports.limit, 10);
    const search = bulkheads.get('search');
    assert.equal(search.limit, 20, 'vegas starts at its initialLimit');
    await moduleRef.close();
  });
});
