// A Nest app with shutdown hooks, a 'wait' rate limiter, a retry with long backoff and an
// operation that never settles under a breaker's callTimeout.
// Prints its port, then one line per request that reaches it (and per attempt of the
// retried route), so the test knows when calls are waiting before it sends SIGTERM.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { FastifyAdapter as FastifyAdapterType } from '@nestjs/platform-fastify';
import { CircuitBreaker, RateLimit, ResilienceModule, Retry } from '../../lib/index.js';

@Controller()
class ReportsController {
  @Get('report')
  @RateLimit({ name: 'reports', rate: 1, per: 5, burst: 0, mode: 'wait', maxWait: 60 })
  report() {
    return 'built';
  }

  /** An operation that never settles, under a 60 s callTimeout. */
  @Get('hung')
  @CircuitBreaker('hung', { callTimeout: 60 })
  hung(): Promise<string> {
    process.stdout.write('hung\n');
    return new Promise(() => undefined);
  }

  @Get('flaky')
  @Retry({ maxAttempts: 5, baseDelay: 10, jitter: false })
  async flaky(): Promise<string> {
    process.stdout.write('attempt\n');
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  }
}

@Module({ imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })], controllers: [ReportsController] })
class AppModule {}

const platform = process.argv[2];
let adapter: FastifyAdapterType | undefined;
if (platform === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  adapter = new FastifyAdapter();
}
const app = adapter
  ? await NestFactory.create(AppModule, adapter, { logger: false })
  : await NestFactory.create(AppModule, { logger: false });
app.enableShutdownHooks();
let arrived = 0;
const server = app.getHttpServer() as import('node:http').Server;
server.on('request', () => process.stdout.write(`arrived ${++arrived}\n`));
await app.listen(0, '127.0.0.1');
process.stdout.write(`port ${(server.address() as { port: number }).port}\n`);
