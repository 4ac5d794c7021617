import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Get, Module, UseInterceptors } from '@nestjs/common';
import { CircuitBreaker, ResilienceInterceptor, ResilienceModule } from '../../lib/index.js';
import { startHttpApp } from '../support/http-apps.js';

const refused = () => Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });

@Controller('mapped')
@UseInterceptors(ResilienceInterceptor)
class MappedController {
  @Get()
  @CircuitBreaker('mapped', { failureThreshold: 1 })
  call(): string {
    throw refused();
  }
}

@Controller('unmapped')
class UnmappedController {
  @Get()
  @CircuitBreaker('unmapped', { failureThreshold: 1 })
  call(): string {
    throw refused();
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ globalInterceptor: false, metrics: { enabled: false } })],
  controllers: [MappedController, UnmappedController],
})
class ScopedInterceptorModule {}

describe('globalInterceptor: false', () => {
  it('maps our errors only where ResilienceInterceptor is applied', async () => {
    const { app, url } = await startHttpApp(ScopedInterceptorModule, 'express');
    try {
      await fetch(`${url}/mapped`);
      const mapped = await fetch(`${url}/mapped`);
      assert.equal(mapped.status, 503);
      assert.ok(mapped.headers.get('retry-after'));
      await fetch(`${url}/unmapped`);
      assert.equal((await fetch(`${url}/unmapped`)).status, 500, 'no interceptor on this controller: Nest answers 500');
    } finally {
      await app.close();
    }
  });
});
