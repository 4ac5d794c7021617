import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module, Param, Query } from '@nestjs/common';
import { ChaosExperiments, ResilienceModule, Resilient } from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const real = { calls: 0 };

@Injectable()
class Catalog {
  @Resilient('catalog')
  async find(what: string): Promise<string> {
    real.calls++;
    return `found ${what}`;
  }
}

@Controller()
class CatalogController {
  constructor(private readonly catalog: Catalog) {}
  @Get('items/:id')
  item(@Param('id') id: string) {
    return this.catalog.find(id);
  }
  @Get('search')
  search(@Query('q') q: string) {
    return this.catalog.find(q);
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      metrics: { enabled: false },
      chaos: { enabled: true },
      services: {
        catalog: {
          // Keyed by tenant: the key a chaos experiment may be scoped to.
          rate: {
            rate: 10_000,
            per: 1,
            keyFunc: (call: { request?: { headers?: Record<string, unknown> } }) =>
              String(call.request?.headers?.['x-tenant'] ?? 'none'),
          },
          retry: { maxAttempts: 1 },
          circuit: { enabled: false },
          dlq: { enabled: false },
        },
      },
    }),
  ],
  controllers: [CatalogController],
  providers: [Catalog],
})
class CatalogModule {}

/** A fault on every call of its scope (rate 1): a 500 from the route; 200 outside it. */
const FAULT = { service: 'catalog', fault: 'error', error: 'ConnectionError', rate: 1, duration: '1m' };

for (const platform of PLATFORMS) {
  describe(`chaos scoped to a route, a key or a predicate (${platform}, real HTTP)`, () => {
    let app: Awaited<ReturnType<typeof startHttpApp>>;
    let chaos: ChaosExperiments;
    const status = async (path: string, tenant = 'none') => {
      const response = await fetch(`${app.url}${path}`, { headers: { 'x-tenant': tenant } });
      await response.text();
      return response.status;
    };
    /** Statuses of the same four requests: two routes x two tenants. */
    const matrix = async () => ({
      itemAcme: await status('/items/7', 'acme'),
      itemOther: await status('/items/7', 'globex'),
      searchAcme: await status('/search?q=x', 'acme'),
      searchOther: await status('/search?q=x', 'globex'),
    });

    before(async () => {
      app = await startHttpApp(CatalogModule, platform);
      chaos = app.app.get(ChaosExperiments);
    });
    after(() => app.app.close());

    it('a route scope hits only that route (the route pattern, any id)', async () => {
      chaos.start({ ...FAULT, route: 'GET /items/:id' }, 'test');
      assert.deepEqual(await matrix(), { itemAcme: 500, itemOther: 500, searchAcme: 200, searchOther: 200 });
      chaos.stopAll();
      chaos.start({ ...FAULT, route: 'POST /items/:id' }, 'test');
      assert.deepEqual(
        await matrix(),
        { itemAcme: 200, itemOther: 200, searchAcme: 200, searchOther: 200 },
        'another verb',
      );
      chaos.stopAll();
      chaos.start({ ...FAULT, route: '/items/*' }, 'test');
      assert.deepEqual(
        await matrix(),
        { itemAcme: 500, itemOther: 500, searchAcme: 200, searchOther: 200 },
        'a prefix',
      );
      chaos.stopAll();
    });

    it("a key scope hits only that key's calls (the rate limiter's key: here the tenant)", async () => {
      chaos.start({ ...FAULT, key: 'acme' }, 'test');
      assert.deepEqual(await matrix(), { itemAcme: 500, itemOther: 200, searchAcme: 500, searchOther: 200 });
      chaos.stopAll();
    });

    it('a predicate scope, and all three at once (every one must match); a throwing predicate hits nothing', async () => {
      chaos.start({ ...FAULT, when: (call: { args: unknown[] }) => call.args[0] === '7' }, 'test');
      assert.deepEqual(await matrix(), { itemAcme: 500, itemOther: 500, searchAcme: 200, searchOther: 200 });
      chaos.stopAll();
      chaos.start({ ...FAULT, route: '/search', key: 'acme', when: () => true }, 'test');
      assert.deepEqual(await matrix(), { itemAcme: 200, itemOther: 200, searchAcme: 500, searchOther: 200 });
      chaos.stopAll();
      chaos.start(
        {
          ...FAULT,
          when: () => {
            throw new Error('a bug in the predicate');
          },
        },
        'test',
      );
      assert.deepEqual(await matrix(), { itemAcme: 200, itemOther: 200, searchAcme: 200, searchOther: 200 });
      const [view] = chaos.list();
      assert.equal(view.when, true, 'the console shows that a predicate narrows it');
      chaos.stopAll();
    });

    it('scopes are checked: a bad route, key or predicate is refused with its path', () => {
      assert.throws(() => chaos.start({ ...FAULT, route: '' }, 'test', 'exp'), /exp\.route/);
      assert.throws(() => chaos.start({ ...FAULT, key: 5 }, 'test', 'exp'), /exp\.key/);
      assert.throws(
        () => chaos.start({ ...FAULT, when: 'args[0] == 7' }, 'test', 'exp'),
        /exp\.when: when must be a function/,
      );
    });
  });
}
