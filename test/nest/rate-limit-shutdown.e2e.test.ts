import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RateLimit, RateLimiterShutdownError, ResilienceModule } from '../../lib/index.js';

const timeouts = () =>
  (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo().filter((r) => r === 'Timeout')
    .length;

describe("a 'wait' limiter at shutdown", () => {
  it('app.close() wakes waiting calls with a clear error at once and leaves no timer behind', async () => {
    @Injectable()
    class Reports {
      @RateLimit({ name: 'reports', rate: 1, per: 10, mode: 'wait', maxWait: 30 })
      async build(): Promise<string> {
        return 'built';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Reports],
    }).compile();
    await moduleRef.init();
    const reports = moduleRef.get(Reports);
    assert.equal(await reports.build(), 'built');
    const before = timeouts();
    const waiting = Array.from({ length: 20 }, () => reports.build());
    await new Promise((r) => setImmediate(r));
    assert.ok(timeouts() > before, 'the calls are waiting on a timer');
    const started = Date.now();
    await moduleRef.close();
    const results = await Promise.allSettled(waiting);
    assert.ok(Date.now() - started < 1000, `close took ${Date.now() - started} ms`);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok((r as PromiseRejectedResult).reason instanceof RateLimiterShutdownError);
    }
    assert.equal(timeouts(), before, 'no timer keeps the process alive');
  });
});
