// Boots a Nest app whose Redis (the limiter store, and a dead-letter queue with its own
// client) is down, serves one rate-limited call, closes the app, and prints how long
// booting took and when closing ended. The test reads that, this process's stderr, and
// when it exited.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DeadLetter, RateLimit, ResilienceModule } from '../../lib/index.js';

const [url] = process.argv.slice(2) as [string];

@Controller()
class PingController {
  @Get('ping')
  @RateLimit({ name: 'ping', rate: 100, per: 1 })
  @DeadLetter('pings', { rethrow: false })
  ping() {
    return 'pong';
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      redis: { url, failureMode: 'local' },
      deadLetter: { storageBackend: 'redis', storageConfig: { redisUrl: url } },
    }),
  ],
  controllers: [PingController],
})
class AppModule {}

const started = Date.now();
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const booted = Date.now() - started;
const port = (app.getHttpServer().address() as { port: number }).port;
const status = (await fetch(`http://127.0.0.1:${port}/ping`)).status;
await app.close();
process.stdout.write(`${JSON.stringify({ booted, status, closedAt: Date.now() })}\n`);
