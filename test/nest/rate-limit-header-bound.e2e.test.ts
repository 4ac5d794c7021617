import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { RateLimit, ResilienceModule } from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

@Injectable()
class Lookups {
  @RateLimit({ name: 'lookups', rate: 100_000, per: 60 })
  async lookup(n: number): Promise<number> {
    return n;
  }

  @RateLimit({ name: 'audited', rate: 100_000, per: 3600, strategy: 'fixed_window', responseHeaders: true })
  async audit(n: number): Promise<number> {
    return n;
  }
}

@Controller()
class ReportsController {
  constructor(private readonly lookups: Lookups) {}

  /** An undecorated route that calls a limited method 600 times. */
  @Get('plain')
  async plain(): Promise<number> {
    let sum = 0;
    for (let i = 0; i < 600; i++) sum += await this.lookups.lookup(i);
    return sum;
  }

  /** A limited route calling a limited method 600 times, and an opted-in one 50 times. */
  @Get('limited')
  @RateLimit({ name: 'reports', rate: 1000, per: 60, burst: 0 })
  async limited(): Promise<number> {
    let sum = 0;
    for (let i = 0; i < 600; i++) sum += await this.lookups.lookup(i);
    for (let i = 0; i < 50; i++) sum += await this.lookups.audit(i);
    return sum;
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
  controllers: [ReportsController],
  providers: [Lookups],
})
class AppModule {}

/** The names of a RateLimit / RateLimit-Policy header's items ("name";params, ...). */
const itemNames = (value: string | null) => [...(value ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);

for (const platform of PLATFORMS) {
  describe(`RateLimit headers stay bounded whatever the handler does (${platform})`, () => {
    let url = '';
    let close: () => Promise<void>;
    before(async () => {
      const started = await startHttpApp(AppModule, platform);
      url = started.url;
      close = () => started.app.close();
    });
    after(() => close());

    it('a limiter on a method the route calls stays out of the headers', async () => {
      const response = await fetch(`${url}/plain`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('ratelimit'), null);
      assert.equal(response.headers.get('ratelimit-policy'), null);
    });

    it("one item per policy: the route's own limiter, and an opted-in one however often it ran", async () => {
      const response = await fetch(`${url}/limited`);
      assert.equal(response.status, 200);
      assert.deepEqual(itemNames(response.headers.get('ratelimit')), ['reports', 'audited']);
      assert.deepEqual(itemNames(response.headers.get('ratelimit-policy')), ['reports', 'audited']);
      // The most restrictive verdict of the 50 opted-in calls (the last one): the next
      // request's item is exactly 50 lower.
      const audited = (r: Response) => Number(/"audited";r=(\d+)/.exec(r.headers.get('ratelimit') ?? '')?.[1]);
      const again = await fetch(`${url}/limited`);
      assert.equal(audited(response) - audited(again), 50);
      let headerBytes = 0;
      response.headers.forEach((value, name) => {
        headerBytes += name.length + value.length;
      });
      assert.ok(headerBytes < 1024, `${headerBytes} bytes of headers`);
    });
  });
}
