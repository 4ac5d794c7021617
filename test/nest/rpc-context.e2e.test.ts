import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Module } from '@nestjs/common';
import { ClientProxyFactory, MessagePattern, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { Bulkhead, CircuitBreaker, RateLimit, ResilienceModule } from '../../lib/index.js';
import { freePort } from '../support/redis-server.js';

@Controller()
class JobsController {
  @MessagePattern('ping')
  @RateLimit({ name: 'rpc_ping', rate: 2, per: 60 })
  ping(n: number) {
    return { pong: n };
  }

  /** Lets the held `slow` calls finish. */
  static release: () => void = () => undefined;

  @MessagePattern('slow')
  @Bulkhead({ name: 'rpc_slow', maxConcurrent: 1 })
  async slow() {
    await new Promise<void>((resolve) => {
      JobsController.release = resolve;
    });
    return 'done';
  }

  @MessagePattern('fragile')
  @CircuitBreaker('rpc_fragile', { failureThreshold: 1 })
  fragile() {
    throw Object.assign(new Error('downstream refused'), { code: 'ECONNREFUSED' });
  }
}

@Module({ imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })], controllers: [JobsController] })
class RpcModule {}

describe('in an RPC context (a real TCP microservice)', () => {
  it('limits and breaks handlers, and never assumes an HTTP response', async () => {
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({ imports: [RpcModule] }).compile();
    const app = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
    });
    app.useLogger(false);
    await app.listen();
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    try {
      assert.deepEqual(await firstValueFrom(client.send('ping', 1)), { pong: 1 });
      assert.deepEqual(await firstValueFrom(client.send('ping', 2)), { pong: 2 });
      const limited = await firstValueFrom(client.send('ping', 3)).catch((e) => e);
      assert.equal(limited.status, 429, 'a structured RpcException, not "Internal server error"');
      assert.equal(limited.error, 'RateLimitExceededError');
      assert.ok(limited.retryAfter > 0);
      const failed = await firstValueFrom(client.send('fragile', {})).catch((e) => e);
      assert.equal(failed.message, 'Internal server error', "the handler's own error is Nest's business");
      const open = await firstValueFrom(client.send('fragile', {})).catch((e) => e);
      assert.equal(open.status, 503);
      assert.match(open.message, /Circuit "rpc_fragile" is open/);
      const held = firstValueFrom(client.send('slow', {}));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const full = await firstValueFrom(client.send('slow', {})).catch((e) => e);
      assert.equal(full.status, 503, 'a full bulkhead is a structured 503');
      assert.equal(full.error, 'BulkheadRejectedError');
      assert.equal(full.retryAfter, 1);
      JobsController.release();
      assert.equal(await held, 'done');
      // Still serving: nothing assumed an HTTP response.
      assert.equal((await firstValueFrom(client.send('ping', 4)).catch((e) => e)).status, 429);
    } finally {
      await client.close();
      await app.close();
    }
  });
});
