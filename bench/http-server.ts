// An HTTP server for bench/http.bench.ts, one variant per process:
// `node http-server.js <plain|rate-limit|throttler|resilient> <port>`.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { RateLimit, ResilienceModule, Resilient } from '../lib/index.js';

const [variant, port] = process.argv.slice(2);

@Controller()
class PlainController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

@Controller()
class RateLimitedController {
  // Every request on one key, a 60-second window, a limit that is never reached.
  @Get('hello')
  @RateLimit({ name: 'bench', rate: 1e9, per: 60, key: 'global' })
  hello() {
    return { hello: 'world' };
  }
}

@Controller()
class ResilientController {
  @Get('hello')
  @Resilient('bench', { rate: { rate: 1e9, per: 60, key: 'global' } })
  hello() {
    return { hello: 'world' };
  }
}

function module(metadata: Parameters<typeof Module>[0]): unknown {
  const target = class BenchModule {};
  Module(metadata)(target);
  return target;
}

const modules: Record<string, unknown> = {
  bare: module({ controllers: [PlainController] }),
  plain: module({
    imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
    controllers: [PlainController],
  }),
  'rate-limit': module({
    imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
    controllers: [RateLimitedController],
  }),
  resilient: module({
    imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
    controllers: [ResilientController],
  }),
  throttler: module({
    imports: [ThrottlerModule.forRoot([{ ttl: 60_000, limit: 1e9 }])],
    controllers: [PlainController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  }),
};

const app = await NestFactory.create(modules[variant] as never, { logger: ['error'], abortOnError: false });
await app.listen(Number(port), '127.0.0.1');
process.send?.('ready');
