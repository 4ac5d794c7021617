// An HTTP server for bench/http.bench.ts, one variant per process:
// `node http-server.js <variant> <port>`; prints 'ready' when it listens.
import 'reflect-metadata';
import { type CallHandler, Controller, Get, Injectable, Module, type NestInterceptor } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
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

@Controller()
class LimitedController {
  @Get('limited')
  @RateLimit({ name: 'bench', rate: 1e9, per: 60, key: 'global' })
  limited() {
    return { hello: 'world' };
  }
}

@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler) {
    return next.handle();
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
  'noop-interceptor': module({
    controllers: [PlainController],
    providers: [{ provide: APP_INTERCEPTOR, useClass: NoopInterceptor }],
  }),
  mixed: module({
    imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
    controllers: [PlainController, LimitedController],
  }),
  global: module({
    imports: [ResilienceModule.forRoot({ metrics: { enabled: false }, interceptor: 'global' })],
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
// 'mixed': the decorated route beside the plain one has served traffic before the plain one is measured.
if (variant === 'mixed') for (let i = 0; i < 100; i++) await (await fetch(`http://127.0.0.1:${port}/limited`)).text();
console.log('ready');
