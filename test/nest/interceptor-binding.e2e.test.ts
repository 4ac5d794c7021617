import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, forwardRef, Get, Inject, Injectable, Module, Param, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  CircuitBreaker,
  RateLimit,
  ResilienceInterceptor,
  ResilienceModule,
  ResilienceService,
} from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const refused = () => Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });

/**
 * Counts the requests this app's ResilienceInterceptor handled: through intercept(), or,
 * for a decorated route that runs without an interceptor, through finishRoute().
 */
function countInterceptions(interceptor: ResilienceInterceptor): { count: number; fast: number } {
  const counter = { count: 0, fast: 0 };
  const intercept = interceptor.intercept.bind(interceptor);
  interceptor.intercept = (context, next) => {
    counter.count++;
    return intercept(context, next);
  };
  const finishRoute = interceptor.finishRoute.bind(interceptor);
  interceptor.finishRoute = (result, response, store) => {
    counter.count++;
    counter.fast++;
    return finishRoute(result, response, store);
  };
  return counter;
}

@Injectable()
class QuotaClient {
  // Keyed by client IP: needs the request, which only the interceptor provides.
  @RateLimit({ name: 'quota', rate: 1, per: 60, key: 'ip' })
  async read(): Promise<string> {
    return 'quota';
  }
}

@Injectable()
class ReportsFacade {
  constructor(readonly quota: QuotaClient) {}
}

@Injectable()
class Ledger {
  constructor(@Inject(forwardRef(() => LedgerAudit)) readonly audit: unknown) {}
}

@Injectable()
class LedgerAudit {
  constructor(@Inject(forwardRef(() => Ledger)) readonly ledger: unknown) {}

  @CircuitBreaker('ledger_audit', { failureThreshold: 1 })
  async check(): Promise<string> {
    throw refused();
  }
}

@Controller('plain')
class PlainController {
  @Get()
  hello() {
    return { hello: 'world' };
  }
}

@Controller('limited')
class LimitedController {
  @Get()
  @RateLimit({ name: 'limited', rate: 1, per: 60, key: 'global' })
  limited() {
    return 'ok';
  }

  // A decorated route with parameters of its own: the RouteCall argument never reaches it.
  @Get('echo/:id')
  @RateLimit({ name: 'echo', rate: 100, per: 60, key: 'ip' })
  async echo(@Param('id') id: string, @Query('q') q?: string) {
    // biome-ignore lint/complexity/noArguments: what the method really received
    return { id, q, received: arguments.length };
  }

  @Get('beside')
  beside() {
    return 'no resilience here';
  }
}

@Controller('reports')
class ReportsController {
  constructor(private readonly facade: ReportsFacade) {}

  @Get()
  read() {
    return this.facade.quota.read();
  }
}

@Controller('programmatic')
class ProgrammaticController {
  constructor(private readonly resilience: ResilienceService) {}

  @Get()
  call() {
    return this.resilience.call('programmatic', async () => {
      throw refused();
    });
  }
}

@Controller('token')
class TokenController {
  constructor(@Inject('AUDIT') private readonly audit: LedgerAudit) {}

  @Get()
  check() {
    return this.audit.check();
  }
}

@Controller('cycle')
class CycleController {
  constructor(private readonly ledger: Ledger) {}

  @Get()
  check() {
    return (this.ledger.audit as LedgerAudit).check();
  }
}

@Controller('mapped')
class MappedController {
  @Get()
  mapped() {
    throw refused();
  }
}

function appModule(interceptor?: 'routes' | 'global' | 'none') {
  @Module({
    imports: [
      ResilienceModule.forRoot({
        metrics: { enabled: false },
        services: {
          programmatic: { circuit: { failureThreshold: 1 } },
          mapped_route: { circuit: { failureThreshold: 1 } },
        },
        http: { routes: { 'GET /mapped': 'mapped_route' } },
        ...(interceptor ? { interceptor } : {}),
      }),
    ],
    controllers: [
      PlainController,
      LimitedController,
      ReportsController,
      ProgrammaticController,
      TokenController,
      CycleController,
      MappedController,
    ],
    providers: [QuotaClient, ReportsFacade, Ledger, LedgerAudit, { provide: 'AUDIT', useExisting: LedgerAudit }],
  })
  class AppModule {}
  return AppModule;
}

async function statusTwice(url: string): Promise<[number, number, Response]> {
  const first = await fetch(url);
  await first.arrayBuffer();
  const second = await fetch(url);
  return [first.status, second.status, second];
}

for (const platform of PLATFORMS) {
  describe(`the interceptor runs only where it is needed (${platform})`, () => {
    it('skips routes with no resilience, maps every route that reaches it', async () => {
      const { app, url } = await startHttpApp(appModule(), platform);
      try {
        const counter = countInterceptions(app.get(ResilienceInterceptor));
        for (const path of ['plain', 'limited/beside']) {
          assert.equal((await fetch(`${url}/${path}`)).status, 200);
        }
        assert.equal(counter.count, 0, 'routes that reach no resilience pay no interceptor');

        const fastBefore = counter.fast;
        const [, limited, response] = await statusTwice(`${url}/limited`);
        assert.equal(limited, 429, 'a decorated route');
        assert.equal(
          counter.fast - fastBefore,
          2,
          'a decorated route whose class reaches nothing else: no interceptor',
        );
        assert.ok(response.headers.get('ratelimit'), 'with its RateLimit header');
        assert.ok(Number(response.headers.get('retry-after')) >= 1);

        assert.deepEqual(
          (await statusTwice(`${url}/reports`)).slice(0, 2),
          [200, 429],
          'through two providers, keyed by IP',
        );
        assert.deepEqual(
          (await statusTwice(`${url}/programmatic`)).slice(0, 2),
          [500, 503],
          'ResilienceService injected',
        );
        assert.deepEqual((await statusTwice(`${url}/token`)).slice(0, 2), [500, 503], 'injected under a string token');
        const cycle = await fetch(`${url}/cycle`);
        assert.equal(cycle.status, 503, 'through a forwardRef cycle (same breaker, opened by /token)');
        assert.deepEqual((await statusTwice(`${url}/mapped`)).slice(0, 2), [500, 503], 'an http.routes entry');
        const echo = await fetch(`${url}/limited/echo/42?q=x`);
        assert.deepEqual(await echo.json(), { id: '42', q: 'x', received: 2 });
        assert.match(echo.headers.get('ratelimit') ?? '', /"echo";r=99;t=\d+/, 'headers from the route-parameter path');
        assert.ok(counter.count >= 11);
      } finally {
        await app.close();
      }
    });
  });
}

describe('interceptor modes', () => {
  it("'global' runs it on every route, 'none' on none", async () => {
    const global = await startHttpApp(appModule('global'), 'express');
    const none = await startHttpApp(appModule('none'), 'express');
    try {
      const counter = countInterceptions(global.app.get(ResilienceInterceptor));
      assert.equal((await fetch(`${global.url}/plain`)).status, 200);
      assert.equal(counter.count, 1);
      assert.deepEqual((await statusTwice(`${none.url}/limited`)).slice(0, 2), [200, 500], 'no mapping anywhere');
    } finally {
      await global.app.close();
      await none.app.close();
    }
  });

  it('two apps in one process sharing controller classes each run their own interceptor', async () => {
    const first = await startHttpApp(appModule(), 'express');
    const second = await startHttpApp(appModule(), 'fastify');
    try {
      const firstCount = countInterceptions(first.app.get(ResilienceInterceptor));
      const secondCount = countInterceptions(second.app.get(ResilienceInterceptor));
      await first.app.close();
      assert.deepEqual((await statusTwice(`${second.url}/limited`)).slice(0, 2), [200, 429]);
      assert.equal(secondCount.count, 2);
      assert.equal(firstCount.count, 0, "the closed app's interceptor is not the one that ran");
    } finally {
      await second.app.close();
    }
  });

  it('refuses an unknown mode and a deprecated flag that disagrees, naming them', () => {
    assert.throws(
      () => ResilienceModule.forRoot({ interceptor: 'everywhere' as never }),
      /interceptor must be one of 'routes', 'global', 'none', got "everywhere"/,
    );
    assert.throws(
      () => ResilienceModule.forRoot({ interceptor: 'routes', globalInterceptor: true }),
      /interceptor 'routes' and globalInterceptor true disagree/,
    );
  });

  it('keeps the deprecated globalInterceptor flag working', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ globalInterceptor: true, metrics: { enabled: false } })],
      controllers: [PlainController],
    }).compile();
    const app = moduleRef.createNestApplication();
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    try {
      const counter = countInterceptions(app.get(ResilienceInterceptor));
      const { port } = app.getHttpServer().address() as { port: number };
      assert.equal((await fetch(`http://127.0.0.1:${port}/plain`)).status, 200);
      assert.equal(counter.count, 1);
    } finally {
      await app.close();
    }
  });
});
